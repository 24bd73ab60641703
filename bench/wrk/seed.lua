-- Seeds tokens through the public API: token <id format % k> for start <= k < start + count,
-- in tenant k mod <tenant count> (or in the fixed tenant). A create is confirmed by its 201
-- body ({"id": …}). Only once every create sent has been answered are ids still unconfirmed
-- sent again (none should be: the first request a wrk thread builds, which it never sends, is
-- a harmless read); resending an id whose answer is still on its way would update the token
-- and put it at version 2. Stops when every id is confirmed; prints progress to stderr and a
-- final "SEEDED <confirmed> <failed>" line. Names carry "team-<k mod 100>" for the regex search.
-- Args: <tokens file> <count> <tenant count | fixed tenant name> <id format> <start>
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")
local tokens, count, tenants, fixed, idfmt, start
local sent, answered, confirmed, failed, busy = 0, 0, 0, 0, 0
local first = true
local done = {}
local retry = 0
local started = os.time()

function init(args)
  tokens = common.load_tokens(args[1])
  count = tonumber(args[2])
  tenants = tonumber(args[3])
  if not tenants then fixed = args[3] end
  idfmt = args[4]
  start = tonumber(args[5] or "0")
end

local function create(k)
  local tenant = fixed or common.tenant(k, tenants)
  return wrk.format("PUT", string.format("/ai-service/%s/agentic/tokens/" .. idfmt, tenant, k),
                    {Authorization = tokens[tenant], ["Content-Type"] = "application/json"},
                    string.format('{"name":"key %d team-%d","value":"sk-seed-%d-0123456789abcdef"}',
                                  k, k % 100, k))
end

function request()
  if first then
    first = false
    return wrk.format("GET", "/health/ready")
  end
  if sent < count then
    sent = sent + 1
    return create(start + sent - 1)
  end
  if answered >= sent then
    for _ = 1, count do
      local k = start + retry
      retry = (retry + 1) % count
      if not done[k] then
        sent = sent + 1
        return create(k)
      end
    end
  end
  return wrk.format("GET", "/health/ready")
end

function response(status, headers, body)
  if status == 200 then return end  -- a /health/ready filler
  answered = answered + 1
  if status == 201 then
    local k = tonumber(body:match('"id":"[^"]-(%d+)"'))
    if k and not done[k] then
      done[k] = true
      confirmed = confirmed + 1
      if confirmed % 20000 == 0 or confirmed == count then
        local elapsed = math.max(os.time() - started, 1)
        io.stderr:write(string.format("\r  seeded %d/%d (%d/s)   ", confirmed, count,
                                      math.floor(confirmed / elapsed)))
      end
    end
  elseif status == 503 then
    -- The store was busy past its timeout (e.g. a long WAL checkpoint): the id stays
    -- unconfirmed and is sent again once every answer is in.
    busy = busy + 1
    if busy % 100 == 1 then io.stderr:write(string.format("\n  %d answers of 503 so far\n", busy)) end
  else
    failed = failed + 1
    io.stderr:write(string.format("\n  create answered %d: %s\n", status, body:sub(1, 200)))
  end
  if confirmed >= count or failed > 0 then
    io.stderr:write(string.format("\nSEEDED %d %d\n", confirmed, failed))
    wrk.thread:stop()
  end
end
