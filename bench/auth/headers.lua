-- Atlas — bench: GET with the headers named in the environment (AUTH_HEADER, TENANT_HEADER).
local auth = os.getenv("AUTH_HEADER")
local tenant = os.getenv("TENANT_HEADER")
wrk.method = "GET"
if auth and auth ~= "" then
  local name, value = auth:match("^([^:]+):%s*(.*)$")
  wrk.headers[name] = value
end
if tenant and tenant ~= "" then wrk.headers["X-Atlas-Tenant"] = tenant end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
