#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/telemetry/tracing-overhead.sh [--duration S] [--rounds R] [--connections C]
#
# What tracing costs: three `atlas serve` on one machine, one with tracing off, one exporting every
# span (and metrics) over OTLP/HTTP protobuf to a local collector stand-in (nginx, which reads,
# answers and logs each post's length), one sampling 10% of traces (ATLAS_OTLP_SAMPLE_RATIO=0.1)
# to the same collector. Rounds interleave the servers; each round measures
#   health  GET /health/live
#   jwt     GET /tenants/current with a bearer JWT
# and prints median req/s, p50, p99, server CPU per request, and the traced/untraced ratio (goal:
# traced keeps at least 90% of the untraced rate). Needs wrk, curl, python3, nginx and a release build at
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
. bench/lib/common.sh

# The collector stand-in: nginx (collector-nginx.conf) reads each OTLP/HTTP post on a kept-alive
# connection, answers 200 and logs its length.
NGINX_BIN="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"
[ -x "$NGINX_BIN" ] || { echo "nginx is needed as the collector stand-in (apt-get install -y nginx-light)" >&2; exit 1; }
COLLECTOR_PORT="$(free_port)"
mkdir -p "$WORK/collector/tmp"
sed "s/@PORT@/$COLLECTOR_PORT/" bench/telemetry/collector-nginx.conf >"$WORK/collector/nginx.conf"
"$NGINX_BIN" -p "$WORK/collector/" -c "$WORK/collector/nginx.conf" -e "$WORK/collector/collector-error.log" -g 'daemon off;' &
PIDS+=("$!")

# start_atlas NAME [VAR=value …]: starts a server on a fresh SQLite file; sets STARTED_PID, STARTED_PORT.
start_atlas() {
  local name="$1"; shift
  STARTED_PORT="$(free_port)"
  env "$@" ATLAS_DATABASE_URL="sqlite:///$WORK/$name.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="$STARTED_PORT" ATLAS_LOG_LEVEL=warning \
    "$ATLAS_BIN" serve >"$WORK/$name.log" 2>&1 &
  STARTED_PID=$!; PIDS+=("$STARTED_PID")
}
start_atlas plain; PLAIN_PID=$STARTED_PID; PLAIN_PORT=$STARTED_PORT
start_atlas traced ATLAS_OTLP_ENDPOINT="http://127.0.0.1:$COLLECTOR_PORT"; TRACED_PID=$STARTED_PID; TRACED_PORT=$STARTED_PORT
start_atlas sampled ATLAS_OTLP_ENDPOINT="http://127.0.0.1:$COLLECTOR_PORT" ATLAS_OTLP_SAMPLE_RATIO=0.1
SAMPLED_PID=$STARTED_PID; SAMPLED_PORT=$STARTED_PORT
wait_for "http://127.0.0.1:$PLAIN_PORT/health/live"
wait_for "http://127.0.0.1:$TRACED_PORT/health/live"
wait_for "http://127.0.0.1:$SAMPLED_PORT/health/live"
PLAIN_JWT="$(login "http://127.0.0.1:$PLAIN_PORT")"
TRACED_JWT="$(login "http://127.0.0.1:$TRACED_PORT")"
SAMPLED_JWT="$(login "http://127.0.0.1:$SAMPLED_PORT")"

# Each round measures the three servers in a rotated order (off/on/10% first in turn), so that a
# neighbour's burst or the previous server's exporter draining its queue does not always land on
# the same variant.
measure_variant() {
  case "$1" in
    off) measure "$2-off" "$PLAIN_PID" "http://127.0.0.1:$PLAIN_PORT$3" "$4" ;;
    on) measure "$2-on" "$TRACED_PID" "http://127.0.0.1:$TRACED_PORT$3" "$5" ;;
    10pct) measure "$2-10pct" "$SAMPLED_PID" "http://127.0.0.1:$SAMPLED_PORT$3" "$6" ;;
  esac
}
ORDERS=("off on 10pct" "on 10pct off" "10pct off on")
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  order="${ORDERS[$(( (round - 1) % 3 ))]}"
  for variant in $order; do measure_variant "$variant" health /health/live "" "" ""; done
  for variant in $order; do
    measure_variant "$variant" jwt /tenants/current "Authorization: Bearer $PLAIN_JWT" \
      "Authorization: Bearer $TRACED_JWT" "Authorization: Bearer $SAMPLED_JWT"
  done
done
sleep 6  # one export interval, so the collector has seen the last batches
sleep 1.2
echo "collector: $(awk '$2 == 200 { n++; b += $1 } END { printf "requests=%d bytes=%d", n, b }' "$WORK/collector/collector-access.log" 2>/dev/null || echo nothing received)"
curl -fsS "http://127.0.0.1:$TRACED_PORT/metrics" -H "Authorization: Bearer $TRACED_JWT" | grep -E '^atlas_trace_spans_(dropped_total|queued)' || true

report <<'PY'
for name in ("health", "jwt"):
    print(f"- {name}: tracing every request keeps {summary[name + '-on'] / summary[name + '-off'] * 100:.0f}% of the rate with tracing off; "
          f"sampling 10% keeps {summary[name + '-10pct'] / summary[name + '-off'] * 100:.0f}%")
PY
