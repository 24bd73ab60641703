// JSON ⇄ MCP server: decoding the PUT body into a service command, rendering a server with a
// projection and, for `expand=token`, the referenced token in place of its id. Decoding checks
// JSON shapes and required fields; the resource's rules are domain::ValidateMcpServer, which
// the service applies. Pure functions, thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <string>

#include "common/result.h"
#include "domain/mcp_server.h"
#include "domain/token.h"
#include "query/query.h"
#include "service/mcp_server_service.h"

namespace ts::api {

// Decodes a PUT body for `path_id` (the body's `id`, when present, must match it). Read-only
// parts a client may send back from a read are ignored: metadata.createdAt/modifiedAt, and the
// name and metadata of an expanded token. Any other unknown field is a 400 naming it.
Result<service::McpServerUpsertCommand> DecodeMcpServerPut(const boost::json::value& body,
                                                           const std::string& path_id);

// `expanded` holds the tokens to render in place of their ids (expand=token); a reference to a
// token missing from it is rendered as {"id": …}.
boost::json::object RenderMcpServer(const domain::McpServer& server,
                                    const query::Projection& projection,
                                    const std::map<std::string, domain::Token>* expanded);

}  // namespace ts::api
