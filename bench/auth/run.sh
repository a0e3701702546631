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
. bench/lib/common.sh

ATLAS_PORT="$(free_port)"
ATLAS_DATABASE_URL="sqlite:///$WORK/bench.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="$ATLAS_PORT" "$ATLAS_BIN" serve >"$WORK/atlas.log" 2>&1 &
ATLAS_PID=$!; PIDS+=("$ATLAS_PID")
wait_for "http://127.0.0.1:$ATLAS_PORT/health/live"
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

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  measure health "$ATLAS_PID" "http://127.0.0.1:$ATLAS_PORT/health/live" ""
  measure jwt "$ATLAS_PID" "http://127.0.0.1:$ATLAS_PORT/tenants/current" "Authorization: Bearer $JWT"
  measure apikey "$ATLAS_PID" "http://127.0.0.1:$ATLAS_PORT/tenants/current" "X-API-Key: $API_KEY"
  [ -n "$REF_PID" ] && measure reference-jwt "$REF_PID" "http://127.0.0.1:$REF_PORT/tenants/current" "Authorization: Bearer $REF_JWT"
done

report <<'PY'
for name in ("jwt", "apikey"):
    if name in summary:
        print(f"- {name} / health: {summary[name] / summary['health']:.2f}")
        if "reference-jwt" in summary:
            print(f"- {name} / reference FastAPI (JWT): {summary[name] / summary['reference-jwt']:.1f}x")
PY
