#!/usr/bin/env bash
# Atlas — Bench
# SPDX-License-Identifier: Apache-2.0
#
# Ingests N NDJSON records over HTTP into `knowledge_base` of a running `atlas serve` (release
# build), then times one model run (`POST /data/runs`) of the project over them.
# Usage: bench/data/ingest.sh [--rows 1000000] [--batch 50000] [--parallel 1] [--keep]
# Environment: ATLAS_URL (a running server; default: start one), ATLAS_BIN (default
#   .build/release/atlas), BENCH_PORT (default 18490), ATLAS_BENCH_USER / ATLAS_BENCH_PASSWORD
#   (default admin@atlas / atlas), BENCH_TENANT (default demo).
# Bodies stay below the default 10 MiB body limit: 50,000 records (~6.5 MB) per request.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$bench_dir/../.." && pwd)
rows=1000000
batch=50000
parallel=1
keep=0
usage() { sed -n '5,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=${2:?}; shift 2 ;;
    --batch) batch=${2:?}; shift 2 ;;
    --parallel) parallel=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
for number in "$rows" "$batch" "$parallel"; do
  [[ "$number" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive whole number: $number" >&2; exit 64; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/atlas-data-bench.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
tenant=${BENCH_TENANT:-demo}

if [ -z "${ATLAS_URL:-}" ]; then
  bin=${ATLAS_BIN:-$repo_root/.build/release/atlas}
  [ -x "$bin" ] || { echo "no atlas binary at $bin: run 'swift build -c release --product atlas' or set ATLAS_BIN" >&2; exit 1; }
  port=${BENCH_PORT:-18490}
  ATLAS_URL="http://127.0.0.1:$port"
  echo "starting $bin serve on $ATLAS_URL (SQLite in $work)" >&2
  (cd "$repo_root" && ATLAS_HOST=127.0.0.1 ATLAS_PORT=$port ATLAS_DATABASE_URL="sqlite:///$work/bench.db" \
     ATLAS_LOG_LEVEL=warning ATLAS_DATA_SOURCES="$repo_root/data/sources.yml" exec "$bin" serve) > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -fs "$ATLAS_URL/health/ready" > /dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "atlas serve exited:" >&2; tail -20 "$work/server.log" >&2; exit 1; }
    sleep 0.2
  done
fi

token=$(curl -fs -X POST "$ATLAS_URL/auth/token" -H 'Content-Type: application/json' \
  -d "{\"username\":\"${ATLAS_BENCH_USER:-admin@atlas}\",\"password\":\"${ATLAS_BENCH_PASSWORD:-atlas}\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "generating $rows records in batches of $batch" >&2
python3 - "$work" "$rows" "$batch" <<'PY'
import sys
work, rows, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
topics = ["refunds", "shipping", "billing", "onboarding", "security", "exports", "api keys", "webhooks"]
part = 0
for start in range(0, rows, batch):
    with open(f"{work}/batch-{part:05d}.ndjson", "w") as out:
        for n in range(start, min(start + batch, rows)):
            topic = topics[n % len(topics)]
            out.write('{"article_id":"a%08d","title":"How %s works, part %d","body":"Answers about %s for customers.","updated_at":"2024-05-%02dT%02d:%02d:00Z"}\n'
                      % (n, topic, n, topic, n % 28 + 1, n % 24, n % 60))
    part += 1
PY
ls "$work"/batch-*.ndjson > "$work/batches"
largest=$(stat -c %s "$work"/batch-*.ndjson | sort -n | tail -1)
echo "$(wc -l < "$work/batches") request bodies, the largest $largest bytes" >&2

post_batch() {
  local file=$1
  curl -s -o "$file.out" -w '%{http_code}' -X POST "$ATLAS_URL/data/sources/knowledge_base/records" \
    -H "Authorization: Bearer $token" -H "X-Atlas-Tenant: $tenant" -H 'Content-Type: application/x-ndjson' \
    --data-binary "@$file" > "$file.status"
}
export -f post_batch
export ATLAS_URL token tenant

started=$(now)
xargs -P "$parallel" -I{} bash -c 'post_batch {}' < "$work/batches"
finished=$(now)

accepted=$(python3 - "$work" <<'PY'
import glob, json, sys
total = 0
for status in sorted(glob.glob(sys.argv[1] + "/*.status")):
    code = open(status).read().strip()
    body = open(status[:-len(".status")] + ".out").read()
    if code != "200":
        sys.exit(f"{status}: HTTP {code}: {body[:300]}")
    answer = json.loads(body)
    if answer["rejected"]:
        sys.exit(f"{status}: {answer['rejected']} records rejected: {answer['errors'][:3]}")
    total += answer["accepted"]
print(total)
PY
)
ingest_seconds=$(python3 -c "print(f'{$finished - $started:.2f}')")
rate=$(python3 -c "print(f'{$accepted / ($finished - $started):,.0f}')")

run_started=$(now)
curl -s -o "$work/run.json" -X POST "$ATLAS_URL/data/runs" -H "Authorization: Bearer $token" -H "X-Atlas-Tenant: $tenant" \
  -H 'Content-Type: application/json' -d '{"kind":"run"}'
run_finished=$(now)
run_summary=$(python3 - "$work/run.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
if "results" not in run:
    sys.exit(f"model run failed: {run}")
parts = [f"{r['name']} {r['status']} {r.get('rows')} rows {r['duration_ms']:.0f} ms" for r in run["results"]]
print(f"status {run['status']}; " + "; ".join(parts))
PY
)
run_seconds=$(python3 -c "print(f'{$run_finished - $run_started:.2f}')")

echo "ingest: $accepted records in $ingest_seconds s over $(wc -l < "$work/batches") requests (parallel $parallel): $rate records/s"
echo "model run: $run_seconds s ($run_summary)"
