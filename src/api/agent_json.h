// JSON ⇄ agent: decoding the PUT body into a service command, and rendering an agent with a
// projection and its expansions: `expand=token` renders the referenced tokens' public
// projection (id, name, metadata; never a value) in place of their ids, `expand=mcpServers`
// each custom entry's MCP server as the MCP server renderer renders it. Decoding checks JSON
// shapes and required fields; the resource's rules are domain::ValidateAgent, which the
// service applies. Render with SerializeJson (api/json_text.h) so that a temperature of 0.3
// reads back as 0.3. Pure functions, thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <string>

#include "common/result.h"
#include "domain/agent.h"
#include "domain/mcp_server.h"
#include "domain/token.h"
#include "query/query.h"
#include "service/agent_service.h"

namespace ts::api {

// Decodes a PUT body for `path_id` (the body's `id`, when present, must match it). Read-only
// parts a client may send back from a read are ignored: metadata.createdAt/modifiedAt, the
// name and metadata of an expanded token, and every field but the id of an expanded MCP
// server. Any other unknown field (the vendor fields not supported here among them) is a 400
// naming it; so is a value of the wrong JSON type, and a temperature that is not a tenth.
Result<service::AgentUpsertCommand> DecodeAgentPut(const boost::json::value& body,
                                                   const std::string& path_id);

// `tokens` (expand=token) and `mcp_servers` (expand=mcpServers) hold what to render in place
// of the ids; null: no expansion. A reference missing from a map is rendered as {"id": …}.
boost::json::object RenderAgent(const domain::Agent& agent, const query::Projection& projection,
                                const std::map<std::string, domain::Token>* tokens,
                                const std::map<std::string, domain::McpServer>* mcp_servers);

}  // namespace ts::api
