-- wrk script for bench/api.py: the bearer token from AUTOTRACK_TOKEN on every request, and one
-- machine-readable line at the end (no response() hook: it would make wrk parse every answer).
--   AUTOTRACK_TOKEN=... wrk -t2 -c8 -d10s --latency -s bench/wrk/api.lua http://127.0.0.1:8000/api/v1/me
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("AUTOTRACK_TOKEN") or "")

function done(summary, latency, requests)
  local e = summary.errors
  -- RESULT requests duration_us p50_us p95_us non2xx(status >= 400: neither app redirects) socket_errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), e.status, e.connect + e.read + e.write + e.timeout))
end
