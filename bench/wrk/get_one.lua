-- GET one token: a random token of the seeded dataset (ids tok-<k>, tenant k mod T).
-- Args: <tokens file> <token count> <tenant count>
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")
local tokens, count, tenants

function init(args)
  tokens = common.load_tokens(args[1])
  count = tonumber(args[2])
  tenants = tonumber(args[3])
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 1000)
end

function request()
  local k = math.random(0, count - 1)
  local tenant = common.tenant(k, tenants)
  return wrk.format("GET", string.format("/ai-service/%s/agentic/tokens/tok-%07d", tenant, k),
                    {Authorization = tokens[tenant]})
end

function done(summary, latency, requests) common.report(summary, latency) end
