#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/telemetry/tracing-overhead.sh [--duration S] [--rounds R] [--connections C]
#
# What tracing costs: two `atlas serve` on one machine, one with tracing off, one exporting every
# span (and metrics) over OTLP/HTTP protobuf to a local collector stand-in that accepts and counts
# what it receives. Rounds interleave the servers; each round measures
#   health  GET /health/live
#   jwt     GET /tenants/current with a bearer JWT
# and prints median req/s, p50, p99, server CPU per request, and the traced/untraced ratio (goal:
# traced keeps at least 90% of the untraced rate). Needs wrk, curl, python3 and a release build at
# .build/release/atlas (ATLAS_BIN overrides).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=10; ROUNDS=3; CONNECTIONS=64
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
ATLAS_BIN="${ATLAS_BIN:-.build/release/atlas}"
[ -x "$ATLAS_BIN" ] || swift build -c release --product atlas >&2
WORK="$(mktemp -d "${TMPDIR:-/tmp}/atlas-bench-tracing.XXXXXX")"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
wait_for() { for _ in $(seq 1 300); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# The collector stand-in: accepts OTLP/HTTP posts, counts requests and bytes, answers 200.
COLLECTOR_PORT="$(free_port)"
python3 - "$COLLECTOR_PORT" "$WORK/collector.txt" <<'PY' &
import http.server, sys, threading
port, out = int(sys.argv[1]), sys.argv[2]
count = {"requests": 0, "bytes": 0}
lock = threading.Lock()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            count["requests"] += 1; count["bytes"] += len(body)
            open(out, "w").write(f"requests={count['requests']} bytes={count['bytes']}\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY
PIDS+=("$!")

start_atlas() { # name extra-env...
  local name="$1"; shift
  local port; port="$(free_port)"
  env "$@" ATLAS_DATABASE_URL="sqlite:///$WORK/$name.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="$port" ATLAS_LOG_LEVEL=warning \
    "$ATLAS_BIN" serve >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  echo "$! $port"
}
read -r PLAIN_PID PLAIN_PORT < <(start_atlas plain)
read -r TRACED_PID TRACED_PORT < <(start_atlas traced ATLAS_OTLP_ENDPOINT="http://127.0.0.1:$COLLECTOR_PORT")
wait_for "http://127.0.0.1:$PLAIN_PORT/health/live"
wait_for "http://127.0.0.1:$TRACED_PORT/health/live"
login() { curl -fsS -X POST "$1/auth/token" -H 'Content-Type: application/json' -d '{"username":"admin@atlas","password":"atlas"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
PLAIN_JWT="$(login "http://127.0.0.1:$PLAIN_PORT")"
TRACED_JWT="$(login "http://127.0.0.1:$TRACED_PORT")"

measure() { # name pid url auth-header
  local name="$1" pid="$2" url="$3" auth="$4" before after line
  AUTH_HEADER="$auth" TENANT_HEADER=demo wrk -t1 -c"$CONNECTIONS" -d2s -s bench/auth/headers.lua "$url" >/dev/null
  before="$(cpu_ticks "$pid")"
  line="$(AUTH_HEADER="$auth" TENANT_HEADER=demo wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/auth/headers.lua "$url" | grep '^RESULT')"
  after="$(cpu_ticks "$pid")"
  echo "$name $line cpu_ticks=$((after - before))" >>"$WORK/results.txt"
  echo "$name $line" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  measure health-off "$PLAIN_PID" "http://127.0.0.1:$PLAIN_PORT/health/live" ""
  measure health-on "$TRACED_PID" "http://127.0.0.1:$TRACED_PORT/health/live" ""
  measure jwt-off "$PLAIN_PID" "http://127.0.0.1:$PLAIN_PORT/tenants/current" "Authorization: Bearer $PLAIN_JWT"
  measure jwt-on "$TRACED_PID" "http://127.0.0.1:$TRACED_PORT/tenants/current" "Authorization: Bearer $TRACED_JWT"
done
sleep 6  # one export interval, so the collector has seen the last batches
echo "collector: $(cat "$WORK/collector.txt" 2>/dev/null || echo nothing received)"
curl -fsS "http://127.0.0.1:$TRACED_PORT/metrics" -H "Authorization: Bearer $TRACED_JWT" | grep -E '^atlas_trace_spans_(dropped_total|queued)' || true

python3 - "$WORK/results.txt" "$TICK_US" "$CONNECTIONS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, _, *fields = line.split()
    values = dict(field.split("=") for field in fields)
    requests = int(values["requests"])
    cpu_us = int(values["cpu_ticks"]) * int(sys.argv[2]) / max(requests, 1)
    rows.setdefault(name, []).append((float(values["rps"]), int(values["p50_us"]), int(values["p99_us"]), cpu_us, int(values["errors"])))
med = lambda xs: statistics.median(xs)
print(f"| scenario (c{sys.argv[3]}) | req/s | p50 | p99 | CPU/req | non-2xx or errors |")
print("|---|---:|---:|---:|---:|---:|")
summary = {}
for name, runs in rows.items():
    rps = med([r[0] for r in runs]); summary[name] = rps
    print(f"| {name} | {rps:,.0f} | {med([r[1] for r in runs])/1000:.2f} ms | {med([r[2] for r in runs])/1000:.2f} ms | {med([r[3] for r in runs]):.1f} µs | {sum(r[4] for r in runs)} |")
print()
for name in ("health", "jwt"):
    print(f"- {name}: tracing on keeps {summary[name + '-on'] / summary[name + '-off'] * 100:.0f}% of the rate with tracing off")
PY
