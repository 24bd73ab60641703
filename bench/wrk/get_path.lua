-- GET one fixed path of one tenant (a page of a list, a search), or of a static server.
-- Args: <tokens file> <tenant or "-" for no Authorization> <path>
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")
local req

function init(args)
  local headers = {}
  if args[2] ~= "-" then headers.Authorization = common.load_tokens(args[1])[args[2]] end
  req = wrk.format("GET", args[3], headers)
end

function request() return req end

function done(summary, latency, requests) common.report(summary, latency) end
