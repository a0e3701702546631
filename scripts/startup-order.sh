#!/usr/bin/env bash
# Atlas — the start-up symbol order for the release link
# SPDX-License-Identifier: Apache-2.0
#
# Usage: scripts/startup-order.sh [BINARY]   (default .build/release/atlas; needs valgrind)
#
# Runs `atlas serve` under callgrind on a fresh SQLite file until it has answered its first
# `GET /health/live` and `GET /health/ready`, and writes the mangled names of every function of the
# atlas binary that ran to `Sources/atlas/startup.order`. The release link (Package.swift) places
# those functions next to each other, so start-up faults in a few hundred kilobytes of code instead
# of touching pages all over the 26 MB text (ADR-013). Functions missing from the list still link;
# they are only placed elsewhere, so a stale list costs memory, never correctness. Rerun it after
# large changes to start-up code and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-.build/release/atlas}"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install -y valgrind)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no binary at $BIN (make release)" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/atlas-order.XXXXXX")"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
# valgrind's DWARF reader gives up on lld's debug sections; the symbol table is all it needs here.
objcopy --strip-debug "$BIN" "$WORK/atlas"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

ATLAS_DATABASE_URL="sqlite:///$WORK/order.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="$PORT" \
  valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no \
  --callgrind-out-file="$WORK/callgrind.out" "$WORK/atlas" serve >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/health/live" >/dev/null
curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null || true
sleep 1
kill -INT "$PID"
wait "$PID" || true

python3 - "$WORK/callgrind.out" Sources/atlas/startup.order <<'PY'
import sys
out, target = sys.argv[1:]
names, seen = [], set()
current = called = None
for line in open(out, errors="replace"):
    key, _, value = line.rstrip("\n").partition("=")
    if key == "ob":
        current = value
    elif key == "cob":
        called = value
    elif key in ("fn", "cfn"):
        owner = called if key == "cfn" and called else current
        if key == "cfn":
            called = None
        if owner and owner.endswith("/atlas") and value not in seen and not value.startswith("0x"):
            seen.add(value)
            names.append(value)
with open(target, "w") as file:
    file.write("\n".join(names) + "\n")
print(f"{len(names)} functions written to {target}")
PY
