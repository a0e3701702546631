-- Atlas — Bench
-- SPDX-License-Identifier: Apache-2.0
--
-- Prints one machine-readable line after a wrk run so bench/report.py does not have to parse wrk's
-- human-oriented units ("1.23ms", "45.6k"). Latencies are wrk's, in microseconds.

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
      '"max_us":%d,"mean_us":%.1f,"non2xx":%d,"connect_errors":%d,"read_errors":%d,' ..
      '"write_errors":%d,"timeouts":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
