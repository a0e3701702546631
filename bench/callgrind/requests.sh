#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/callgrind/requests.sh [--requests N] [--keep DIR] [VAR=value …]
#
# Instructions per request, counted by valgrind's callgrind: a number the neighbours on a shared
# machine cannot move, for comparing two builds of the same path. A release build
# (`swift build -c release --static-swift-stdlib`) runs under callgrind on a fresh SQLite file;
# after a warm-up the counters are zeroed, N requests go over one kept-alive connection, and the
# counters are dumped. All threads count (event loop, worker, exporters). Scenarios:
#   health   GET /health/live
#   jwt      GET /tenants/current with a bearer JWT
#   apikey   GET /tenants/current with an X-API-Key
# VAR=value arguments go to the server's environment (for example ATLAS_OTLP_ENDPOINT=… to count
# tracing). --keep DIR keeps the callgrind files for callgrind_annotate. Needs valgrind, curl and
# python3; a run takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
REQUESTS=2000; KEEP=""; ENVIRONMENT=()
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) REQUESTS="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    *=*) ENVIRONMENT+=("$1"); shift ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install -y valgrind)" >&2; exit 1; }
ATLAS_BIN="${ATLAS_BIN:-.build/release/atlas}"
[ -x "$ATLAS_BIN" ] || swift build -c release --static-swift-stdlib --product atlas >&2
WORK="$(mktemp -d "${TMPDIR:-/tmp}/atlas-bench-callgrind.XXXXXX")"
DURATION=0; CONNECTIONS=0
. bench/lib/common.sh

# valgrind's DWARF reader gives up on lld's debug sections; the symbol table is all it needs.
objcopy --strip-debug "$ATLAS_BIN" "$WORK/atlas"
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
# The first login upgrades the bootstrap hash (a 32 MiB scrypt block, slow under valgrind), so the
# file is prepared by a native run first.
ATLAS_DATABASE_URL="sqlite:///$WORK/bench.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="$PORT" ATLAS_LOG_LEVEL=warning \
  "$ATLAS_BIN" serve >"$WORK/native.log" 2>&1 &
NATIVE=$!; PIDS+=("$NATIVE")
wait_for "$BASE/health/live"
JWT="$(login "$BASE")"
API_KEY="$(curl -fsS -X POST "$BASE/tenants/demo/api-keys" -H "Authorization: Bearer $JWT" \
  -H 'Content-Type: application/json' -d '{"name":"bench","role":"viewer"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
kill "$NATIVE"; wait "$NATIVE" 2>/dev/null || true

# Hashing seeded the same way every run: with a random seed, how far a dictionary probes (the
# RED metrics' route table) moved the count by a few hundred instructions from run to run.
env "${ENVIRONMENT[@]}" SWIFT_DETERMINISTIC_HASHING=1 ATLAS_DATABASE_URL="sqlite:///$WORK/bench.db" ATLAS_HOST=127.0.0.1 \
  ATLAS_PORT="$PORT" ATLAS_LOG_LEVEL=warning valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" "$WORK/atlas" serve >"$WORK/valgrind.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 600); do curl -fsS "$BASE/health/live" >/dev/null 2>&1 && break; sleep 0.2; done

# send N PATH [HEADER]: N GET requests over one kept-alive connection.
send() {
  python3 - "$PORT" "$1" "$2" "${3:-}" <<'PY'
import http.client, sys
port, count, path, header = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
headers = {"X-Atlas-Tenant": "demo"}
if header:
    name, value = header.split(":", 1)
    headers[name.strip()] = value.strip()
connection = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(count):
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"{path}: {response.status}")
PY
}
declare -A HEADER=([health]="" [jwt]="Authorization: Bearer $JWT" [apikey]="X-API-Key: $API_KEY")
declare -A TARGET=([health]=/health/live [jwt]=/tenants/current [apikey]=/tenants/current)
echo "| scenario | instructions per request |"
echo "|---|---:|"
part=0
for scenario in health jwt apikey; do
  send 300 "${TARGET[$scenario]}" "${HEADER[$scenario]}"
  callgrind_control -z >/dev/null 2>&1
  send "$REQUESTS" "${TARGET[$scenario]}" "${HEADER[$scenario]}"
  callgrind_control -d >/dev/null 2>&1
  part=$((part + 1))
  total="$(awk '/^summary:/ { print $2 }' "$WORK/callgrind.out.$part")"
  printf '| %s | %s |\n' "$scenario" "$(python3 -c "print(f'{$total / $REQUESTS:,.0f}')")"
  [ -n "$KEEP" ] && mkdir -p "$KEEP" && cp "$WORK/callgrind.out.$part" "$KEEP/$scenario.callgrind"
done
