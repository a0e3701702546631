#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/memory/idle.sh [--rounds R]
#
# The idle server's memory: `atlas serve` on SQLite, started on a fresh database file (first start:
# migrations, seed data, the bootstrap admin's password hash) and again on the same file (a
# restart), left alone 3 s after its first `GET /health/live` answer. Prints, per start, the time
# to that first answer and the peak (VmHWM) and current resident set, then medians. Needs curl,
# python3 and a release build at .build/release/atlas (ATLAS_BIN overrides; `make release`).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
ATLAS_BIN="${ATLAS_BIN:-.build/release/atlas}"
[ -x "$ATLAS_BIN" ] || { echo "no release build at $ATLAS_BIN (make release)" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/atlas-bench-idle.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
python3 - "$ATLAS_BIN" "$WORK" "$ROUNDS" <<'PY'
import os, socket, statistics, subprocess, sys, time, urllib.request
binary, work, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def start(database):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    env.update(ATLAS_DATABASE_URL=f"sqlite:///{database}", ATLAS_HOST="127.0.0.1", ATLAS_PORT=str(port))
    began = time.monotonic()
    process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=0.5).read()
            break
        except OSError:
            if process.poll() is not None:
                sys.exit(f"atlas exited with {process.returncode}")
            time.sleep(0.005)
    first = (time.monotonic() - began) * 1000
    time.sleep(3)
    status = dict(line.split(":", 1) for line in open(f"/proc/{process.pid}/status") if ":" in line)
    kib = lambda key: int(status[key].split()[0])
    process.terminate()
    process.wait()
    return first, kib("VmHWM"), kib("VmRSS")

results = {"first start": [], "restart": []}
for round in range(rounds):
    database = f"{work}/idle-{round}.db"
    results["first start"].append(start(database))
    results["restart"].append(start(database))
print("| start | first answer | peak RSS (VmHWM) | RSS after 3 s idle |")
print("|---|---:|---:|---:|")
for name, runs in results.items():
    med = lambda i: statistics.median(r[i] for r in runs)
    print(f"| {name} (median of {len(runs)}) | {med(0):.0f} ms | {med(1) / 1024:.1f} MiB | {med(2) / 1024:.1f} MiB |")
print("\nEvery start: " + "; ".join(f"{name} {r[0]:.0f} ms {r[1] / 1024:.1f}/{r[2] / 1024:.1f} MiB"
                                    for name, runs in results.items() for r in runs))
PY
