# Atlas — bench: helpers shared by the wrk scripts (sourced, not run).
# SPDX-License-Identifier: Apache-2.0
#
# Expects DURATION, CONNECTIONS and WORK set by the caller; PIDS collects background processes,
# which `cleanup` (installed as the EXIT trap) stops before removing WORK.

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { for _ in $(seq 1 300); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }
# utime+stime+cutime+cstime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

login() { curl -fsS -X POST "$1/auth/token" -H 'Content-Type: application/json' -d '{"username":"admin@atlas","password":"atlas"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }

# measure NAME PID URL AUTH-HEADER: a 2 s warm-up, then DURATION seconds of wrk with the given
# header (and X-Atlas-Tenant: demo); appends `NAME RESULT … cpu_ticks=N` to $WORK/results.txt.
measure() {
  local name="$1" pid="$2" url="$3" auth="$4" before after line
  AUTH_HEADER="$auth" TENANT_HEADER=demo wrk -t1 -c"$CONNECTIONS" -d2s -s bench/auth/headers.lua "$url" >/dev/null
  before="$(cpu_ticks "$pid")"
  line="$(AUTH_HEADER="$auth" TENANT_HEADER=demo wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/auth/headers.lua "$url" | grep '^RESULT')"
  after="$(cpu_ticks "$pid")"
  echo "$name $line cpu_ticks=$((after - before))" >>"$WORK/results.txt"
  echo "$name $line" >&2
}

# report: prints the markdown table of $WORK/results.txt (medians over rounds) and, from stdin,
# Python lines that may use `summary` (name → median req/s) to print ratios.
report() {
  python3 - "$WORK/results.txt" "$TICK_US" "$CONNECTIONS" 3<&0 <<'PY'
import os, statistics, sys
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
exec(os.fdopen(3).read())
PY
}
