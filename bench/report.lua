-- bench/report.lua: the one result line every bench wrk script prints,
-- parsed by bench/bench.sh:
--   wrk_result requests=N seconds=S rps=R p50=MS p99=MS p999=MS max=MS
--     non2xx=N e_connect=N e_read=N e_write=N e_timeout=N
-- (one line; latencies in milliseconds, from wrk's histogram).
local M = {}

function M.done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "wrk_result requests=%d seconds=%.2f rps=%.1f p50=%.2f p99=%.2f p999=%.2f max=%.2f non2xx=%d e_connect=%d e_read=%d e_write=%d e_timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end

return M
