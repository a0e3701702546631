#!/usr/bin/env bash
# Atlas — bench/retrieval
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/retrieval/run.sh [--count 100000] [--queries 1000] [--dimensions 384] [--clusters 1000] [--noise 1.0,2.0]
#                               [--m 16] [--ef-construction 200] [--ef 16,32,64,96,128,200,300,400] [--documents 1000]
#
# Top-10 search over COUNT random-ish vectors with Atlas's HNSW index and with hnswlib (PyPI) on the
# same vector files in the same run — one data set per --noise value: 1.0 is clustered like topical
# text, 2.0 blurs the topics until graph search gets hard — then the ingest rate of the AI module
# into SQLite (and into PostgreSQL too when ATLAS_TEST_POSTGRES_URL is set, e.g. under
# scripts/with-postgres.sh).
# Results go to bench/out/retrieval-<time>/ (report.md, one JSON file per step). Not part of make test.
set -euo pipefail

COUNT=100000 QUERIES=1000 DIMENSIONS=384 CLUSTERS=1000 NOISE=1.0,2.0 M=16 EF_CONSTRUCTION=200 EF=16,32,64,96,128,200,300,400 DOCUMENTS=1000
while [ "$#" -gt 0 ]; do
    case "$1" in
        --count) COUNT="$2" ;;
        --queries) QUERIES="$2" ;;
        --dimensions) DIMENSIONS="$2" ;;
        --clusters) CLUSTERS="$2" ;;
        --noise) NOISE="$2" ;;
        --m) M="$2" ;;
        --ef-construction) EF_CONSTRUCTION="$2" ;;
        --ef) EF="$2" ;;
        --documents) DOCUMENTS="$2" ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
    shift 2
done

HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$HERE/../out/retrieval-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"

# The migrations plugin reads Migrations/ of the package it builds and does not follow a link.
rm -rf "$HERE/Migrations"
cp -R "$HERE/../../Migrations" "$HERE/Migrations"

echo "retrieval bench: building (release)" >&2
(cd "$HERE" && swift build -c release --product RetrievalBench >&2)
BIN="$HERE/.build/release/RetrievalBench"

VENV="$HERE/../out/hnswlib-venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import hnswlib, numpy" 2>/dev/null; then
    echo "retrieval bench: installing hnswlib and numpy from PyPI into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet hnswlib numpy >&2
fi

{
    echo "{\"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\", \"commit\": \"$(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo unknown)\","
    echo " \"cpus\": $(nproc), \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\","
    echo " \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"swift\": \"$(swift --version 2>&1 | head -1 | sed 's/"/\\"/g')\","
    echo " \"python\": \"$("$VENV/bin/python" --version 2>&1)\", \"hnswlib\": \"$("$VENV/bin/pip" show hnswlib 2>/dev/null | awk '/^Version/{print $2}')\"}"
} > "$OUT/meta.json"

for noise in ${NOISE//,/ }; do
    DATA="$OUT/data-$noise"
    "$BIN" generate --out "$DATA" --count "$COUNT" --queries "$QUERIES" --dimensions "$DIMENSIONS" --clusters "$CLUSTERS" --noise "$noise" > "$OUT/generate-$noise.json"
    "$BIN" search --data "$DATA" --dimensions "$DIMENSIONS" --m "$M" --ef-construction "$EF_CONSTRUCTION" --ef "$EF" > "$OUT/atlas-$noise.json"
    "$VENV/bin/python" "$HERE/hnswlib_bench.py" "$DATA" --dimensions "$DIMENSIONS" --m "$M" --ef-construction "$EF_CONSTRUCTION" --ef "$EF" > "$OUT/hnswlib-$noise.json"
    rm -rf "$DATA"
done
"$BIN" ingest --documents "$DOCUMENTS" > "$OUT/ingest-sqlite.json"
if [ -n "${ATLAS_TEST_POSTGRES_URL:-}" ]; then
    "$BIN" ingest --documents "$DOCUMENTS" --database-url "$ATLAS_TEST_POSTGRES_URL" > "$OUT/ingest-postgres.json"
fi
python3 "$HERE/report.py" "$OUT" > "$OUT/report.md"
cat "$OUT/report.md"
