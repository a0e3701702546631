#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/billing/post-usage.sh [ATLAS_BINARY] [SECONDS] [CONNECTIONS]
#
# Authenticated `POST /metrics/usage` on SQLite (synchronous=FULL, the default) with wrk: starts
# `atlas serve` on a fresh database in a temporary directory, logs in as the bootstrap admin, warms
# up for 2 s, measures for SECONDS (10) at CONNECTIONS (64), stops the server with SIGTERM and
# checks that every 202 the clients received is a stored row (zero acknowledged events lost).
# Prints req/s, p50/p99, the 202 count and the stored count.
set -euo pipefail
cd "$(dirname "$0")/../.."
ATLAS="${1:-.build/release/atlas}"
SECONDS_RUN="${2:-10}"
CONNECTIONS="${3:-64}"
command -v wrk >/dev/null || { echo "post-usage: wrk is required (apt-get install wrk)" >&2; exit 69; }
command -v sqlite3 >/dev/null || { echo "post-usage: sqlite3 is required (apt-get install sqlite3)" >&2; exit 69; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/atlas-bench-usage.XXXXXX")"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

ATLAS_DATABASE_URL="sqlite:///$WORK/bench.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="$PORT" "$ATLAS" serve >"$WORK/atlas.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1 && break
    sleep 0.05
done
TOKEN="$(curl -fsS -X POST "http://127.0.0.1:$PORT/auth/token" -H 'Content-Type: application/json' \
    -d '{"username":"admin@atlas","password":"atlas"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
export ATLAS_TOKEN="$TOKEN"
SCRIPT="bench/billing/post-usage.lua"

wrk -t1 -c"$CONNECTIONS" -d2s -s "$SCRIPT" "http://127.0.0.1:$PORT" >"$WORK/warmup.txt"
WARM="$(grep -o 'accepted_202=[0-9]*' "$WORK/warmup.txt" | cut -d= -f2)"
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$SCRIPT" "http://127.0.0.1:$PORT" | tee "$WORK/run.txt"
RUN="$(grep -o 'accepted_202=[0-9]*' "$WORK/run.txt" | cut -d= -f2)"
kill -TERM "$PID"
wait "$PID" 2>/dev/null || true
PID=
STORED="$(sqlite3 "$WORK/bench.db" 'SELECT COUNT(*) FROM billing_usage_events')"
ACKED=$((WARM + RUN))
echo "post-usage: connections=$CONNECTIONS seconds=$SECONDS_RUN acknowledged_202=$ACKED stored=$STORED lost=$(( ACKED > STORED ? ACKED - STORED : 0 ))"
[ "$STORED" -ge "$ACKED" ]
