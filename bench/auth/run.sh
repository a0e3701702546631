#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/auth/run.sh [--duration S] [--rounds R] [--connections C]
#
# Authenticated reads against the unauthenticated baseline, in one interleaved run on one server:
#   health    GET /health/live                      (no auth)
#   jwt       GET /tenants/current with a bearer JWT (token check, membership, one storage read)
#   apikey    GET /tenants/current with X-API-Key    (key look-up, role, one storage read)
# and, when REFERENCE_API_DIR points at the reference design's core/api folder and REFERENCE_PYTHON at
# a Python with its requirements installed (both prepared outside this repository), the reference
# FastAPI app's GET /tenants/current with a JWT under uvicorn (1 worker, its default).
# Prints req/s, p50, p99 and server CPU time per request (utime+stime from /proc, µs); medians over
# rounds. Needs wrk, curl, python3 and a release build at .build/release/atlas (ATLAS_BIN overrides).
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
WORK="$(mktemp -d "${TMPDIR:-/tmp}/atlas-bench-auth.XXXXXX")"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

wait_for() { for _ in $(seq 1 300); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }
cpu_ticks() { # utime+stime+cutime+cstime of a process, in clock ticks
  awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))

ATLAS_PORT="$(free_port)"
ATLAS_DATABASE_URL="sqlite:///$WORK/bench.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="$ATLAS_PORT" "$ATLAS_BIN" serve >"$WORK/atlas.log" 2>&1 &
ATLAS_PID=$!; PIDS+=("$ATLAS_PID")
wait_for "http://127.0.0.1:$ATLAS_PORT/health/live"
login() { curl -fsS -X POST "$1/auth/token" -H 'Content-Type: application/json' -d '{"username":"admin@atlas","password":"atlas"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
JWT="$(login "http://127.0.0.1:$ATLAS_PORT")"
API_KEY="$(curl -fsS -X POST "http://127.0.0.1:$ATLAS_PORT/tenants/demo/api-keys" -H "Authorization: Bearer $JWT" \
  -H 'Content-Type: application/json' -d '{"name":"bench","role":"viewer"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"

REF_PID=""
if [ -n "${REFERENCE_API_DIR:-}" ] && [ -n "${REFERENCE_PYTHON:-}" ]; then
  REF_PORT="$(free_port)"
  (cd "$REFERENCE_API_DIR" && ATLAS_DATABASE_URL="sqlite:///$WORK/reference.db" exec "$REFERENCE_PYTHON" -m uvicorn app.main:app \
     --host 127.0.0.1 --port "$REF_PORT" --log-level warning >"$WORK/reference.log" 2>&1) &
  REF_PID=$!; PIDS+=("$REF_PID")
  wait_for "http://127.0.0.1:$REF_PORT/health/live"
  REF_JWT="$(login "http://127.0.0.1:$REF_PORT")"
fi

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
  measure health "$ATLAS_PID" "http://127.0.0.1:$ATLAS_PORT/health/live" ""
  measure jwt "$ATLAS_PID" "http://127.0.0.1:$ATLAS_PORT/tenants/current" "Authorization: Bearer $JWT"
  measure apikey "$ATLAS_PID" "http://127.0.0.1:$ATLAS_PORT/tenants/current" "X-API-Key: $API_KEY"
  [ -n "$REF_PID" ] && measure reference-jwt "$REF_PID" "http://127.0.0.1:$REF_PORT/tenants/current" "Authorization: Bearer $REF_JWT"
done

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
for name in ("jwt", "apikey"):
    if name in summary:
        print(f"- {name} / health: {summary[name] / summary['health']:.2f}")
        if "reference-jwt" in summary:
            print(f"- {name} / reference FastAPI (JWT): {summary[name] / summary['reference-jwt']:.1f}x")
PY
