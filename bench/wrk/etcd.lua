-- etcd v3 JSON gateway baseline: range (read one key) or put (durable write of a 40-byte value
-- under one of 10,000 keys). Args: - <range|put>
local mode
local counter = 0

local function b64(s)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({"", "==", "="})[#s % 3 + 1])
end

local range_body
local puts = {}

function init(args)
  mode = args[2]
  range_body = '{"key":"' .. b64("bench/k1") .. '"}'
  local value = b64(string.rep("v", 40))
  for k = 0, 9999 do
    puts[k] = string.format('{"key":"%s","value":"%s"}', b64("bench/k" .. k), value)
  end
end

function request()
  local headers = {["Content-Type"] = "application/json"}
  if mode == "range" then return wrk.format("POST", "/v3/kv/range", headers, range_body) end
  counter = counter + 1
  return wrk.format("POST", "/v3/kv/put", headers, puts[counter % 10000])
end

package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("common")
function done(summary, latency, requests) common.report(summary, latency) end
