-- Shared by the wrk scripts of bench/run: bearer tokens per tenant and a summary line.
-- Every script is run as `wrk ... -s X.lua -- <tokens file> <script args...>`; the tokens
-- file has one "tenant<TAB>jwt" line per tenant (bench/runner.py writes it).
local M = {}

function M.load_tokens(path)
  local tokens = {}
  for line in io.lines(path) do
    local tenant, jwt = line:match("^(%S+)\t(%S+)$")
    if tenant then tokens[tenant] = "Bearer " .. jwt end
  end
  return tokens
end

function M.tenant(i, count)
  return string.format("t%04d", i % count)
end

-- One JSON line that runner.py parses: throughput, latency percentiles (µs), errors.
function M.report(summary, latency, expected_status_errors)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout + summary.errors.status + (expected_status_errors or 0)
  io.write(string.format(
      'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p99_us":%d,"p999_us":%d,' ..
      '"mean_us":%.1f,"max_us":%d,"errors":%d,"non_2xx":%d}\n',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
      latency.mean, latency.max, errors, summary.errors.status))
end

return M
