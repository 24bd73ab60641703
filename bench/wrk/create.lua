-- PUT new tokens (201) into random tenants: durable creates. Ids are new-<run>-<counter>.
-- Args: <tokens file> <tenant count> <run id>
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")
local tokens, tenants, run
local counter = 0

function init(args)
  tokens = common.load_tokens(args[1])
  tenants = tonumber(args[2])
  run = args[3]
end

function request()
  counter = counter + 1
  local tenant = common.tenant(counter, tenants)
  return wrk.format("PUT", string.format("/ai-service/%s/agentic/tokens/new-%s-%d", tenant, run,
                                         counter),
                    {Authorization = tokens[tenant], ["Content-Type"] = "application/json"},
                    string.format('{"name":"created %d","value":"sk-bench-%s-%d-secret"}',
                                  counter, run, counter))
end

function done(summary, latency, requests) common.report(summary, latency) end
