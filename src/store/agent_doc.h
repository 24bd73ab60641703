// The JSON document in which both backends keep the agent fields that are neither queried nor
// references (store/agent_store.h): name, description, tags, userPrompt, the rest of
// llmConfig, and the mcpServers list. It is a storage format, not the API's JSON: keys are
// short and stable, and it is versioned ("v": 1) so a later migration can tell formats apart.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "domain/agent.h"

namespace ts::store {

// The document of `agent` (columns' fields and metadata are not in it).
std::string EncodeAgentDoc(const domain::Agent& agent);

// Fills the document's fields of `agent`, leaving the columns' fields as they are. kInternal
// for a document this code did not write (corrupt row).
Result<void> DecodeAgentDoc(std::string_view doc, domain::Agent& agent);

// Removes the custom entry naming `mcp_server_id` from agent.mcp_servers; false if none.
bool RemoveMcpServerEntry(domain::Agent& agent, std::string_view mcp_server_id);

// The index of the custom entry naming `mcp_server_id` in agent.mcp_servers, as the API's
// field "mcpServers[i].mcpServer.id" spells it; "mcpServers" if there is none.
std::string McpServerEntryField(const domain::Agent& agent, std::string_view mcp_server_id);

}  // namespace ts::store
