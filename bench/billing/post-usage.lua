-- Atlas — bench
-- SPDX-License-Identifier: Apache-2.0
--
-- wrk script: authenticated POST /metrics/usage, one event per request, each with its own
-- Idempotency-Key; counts 202 answers so the run can be checked against the rows stored.
-- Environment: ATLAS_TOKEN (a bearer token), ATLAS_TENANT (default demo).
local token = os.getenv("ATLAS_TOKEN") or ""
local tenant = os.getenv("ATLAS_TENANT") or "demo"
local counter = 0
accepted = 0
other = 0
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

-- Keys must differ between wrk runs (warm-up, measurement), or later runs would replay earlier
-- keys and be answered as retries.
local run = 0

function init(args)
    counter = 0
    run = os.time()
end

function request()
    counter = counter + 1
    local body = string.format('{"tenant":"%s","source":"ai-service","tokens":%d,"latency_ms":%d.5}', tenant, 100 + counter % 900, 20 + counter % 400)
    return wrk.format("POST", "/metrics/usage", {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("bench-%d-%d", run, counter),
    }, body)
end

function response(status, headers, body)
    if status == 202 then accepted = accepted + 1 else other = other + 1 end
end

function done(summary, latency, requests)
    local total_accepted, total_other = 0, 0
    for _, thread in ipairs(threads) do
        total_accepted = total_accepted + thread:get("accepted")
        total_other = total_other + thread:get("other")
    end
    io.write(string.format("accepted_202=%d other=%d\n", total_accepted, total_other))
    io.write(string.format("p50_ms=%.3f p99_ms=%.3f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
