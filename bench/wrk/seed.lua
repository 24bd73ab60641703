-- Seeds tokens through the public API: the k-th create (start <= k < start + count) makes
-- token <id format % k> in tenant k mod <tenant count> (or in the fixed tenant). Stops once every create was answered;
-- prints progress to stderr. Names carry "team-<k mod 100>" for the regex search.
-- Args: <tokens file> <count> <tenant count | fixed tenant name> <id format> <start>
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")
local tokens, count, tenants, fixed, idfmt, start
local sent, answered, failed = 0, 0, 0
local started = os.time()

function init(args)
  tokens = common.load_tokens(args[1])
  count = tonumber(args[2])
  tenants = tonumber(args[3])
  if not tenants then fixed = args[3] end
  idfmt = args[4]
  start = tonumber(args[5] or "0")
end

function request()
  if sent >= count then
    -- Everything is sent; keep the connection busy with something harmless until the last
    -- answers are in.
    return wrk.format("GET", "/health/ready")
  end
  local k = start + sent
  sent = sent + 1
  local tenant = fixed or common.tenant(k, tenants)
  return wrk.format("PUT", string.format("/ai-service/%s/agentic/tokens/" .. idfmt, tenant, k),
                    {Authorization = tokens[tenant], ["Content-Type"] = "application/json"},
                    string.format('{"name":"key %d team-%d","value":"sk-seed-%d-0123456789abcdef"}',
                                  k, k % 100, k))
end

function response(status, headers, body)
  if status == 200 then return end  -- a /health/ready filler
  answered = answered + 1
  if status ~= 201 then failed = failed + 1 end
  if answered % 20000 == 0 or answered == count then
    local elapsed = math.max(os.time() - started, 1)
    io.stderr:write(string.format("\r  seeded %d/%d (%d/s, %d failed)   ", answered, count,
                                  math.floor(answered / elapsed), failed))
  end
  if answered >= count then
    io.stderr:write(string.format("\nSEEDED %d %d\n", answered, failed))
    wrk.thread:stop()
  end
end
