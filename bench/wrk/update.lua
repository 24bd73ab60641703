-- PUT (with metadata.version) or PATCH existing tokens of one tenant, round-robin over its
-- <n> tokens u-<k>, each seeded at version 1. Request c changes token c mod n; every earlier
-- request to it finished long before (n requests apart, with at most 32 in flight), so the
-- version it sends is 1 + floor(c / n). Run each repetition on a fresh tenant.
-- Args: <tokens file> <tenant> <n> <put|patch>
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")
local auth, tenant, n, mode
local counter = -1

function init(args)
  tenant = args[2]
  auth = common.load_tokens(args[1])[tenant]
  n = tonumber(args[3])
  mode = args[4]
end

local first = true

function request()
  -- wrk builds one request per thread that it never sends (seen with wrk 4.1): let that one
  -- be a harmless read, so that no update is lost and the version arithmetic stays exact.
  if first then
    first = false
    return wrk.format("GET", "/health/ready")
  end
  counter = counter + 1
  local k = counter % n
  local path = string.format("/ai-service/%s/agentic/tokens/u-%06d", tenant, k)
  local headers = {Authorization = auth, ["Content-Type"] = "application/json"}
  if mode == "put" then
    return wrk.format("PUT", path, headers, string.format(
        '{"name":"renamed %d","metadata":{"version":%d}}', counter, 1 + math.floor(counter / n)))
  end
  return wrk.format("PATCH", path, headers, string.format(
      '[{"op":"REPLACE","path":"/name","value":"patched %d"}]', counter))
end

function done(summary, latency, requests) common.report(summary, latency) end
