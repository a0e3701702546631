#!/usr/bin/env bash
# Atlas — scripts
# SPDX-License-Identifier: Apache-2.0
#
# Usage: scripts/dbt-compare/run.sh [PROJECT_DIR]
#
# Runs a dbt project twice over the same seed CSVs and compares every model's table contents:
#   1. the real dbt (dbt-core 1.9-1.10 + dbt-duckdb 1.9 from PyPI, in a venv under /tmp; newer dbt-core
#      downloads a parser from GitHub while installing) on DuckDB:
#      dbt seed, dbt run, dbt run (the incremental models' second pass), dbt test;
#   2. `atlas data seed|run|run|test` on SQLite and, when ATLAS_TEST_POSTGRES_URL is set (run the
#      script under scripts/with-postgres.sh), on PostgreSQL too.
# Each model is exported as CSV with its rows sorted and its values normalised (integral numbers
# without a fraction, other numbers to 6 places, NULL as empty), then diffed against DuckDB's.
# Exits 0 when every model matches on every backend and both sides agree on the test outcomes.
#
# Environment: ATLAS_BIN (an atlas binary; default: built with `swift build` into .build-dbt-compare),
# ATLAS_DBT_VENV (default /tmp/atlas-dbt-venv), ATLAS_DBT_WORK (default /tmp/atlas-dbt-compare).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PROJECT="$(cd "${1:-$ROOT/examples/dbt-commerce}" && pwd)"
VENV="${ATLAS_DBT_VENV:-/tmp/atlas-dbt-venv}"
WORK="${ATLAS_DBT_WORK:-/tmp/atlas-dbt-compare}"

if [ ! -x "$VENV/bin/dbt" ]; then
    echo "dbt-compare: installing dbt-core and dbt-duckdb into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'dbt-core>=1.9,<1.11' 'dbt-duckdb>=1.9,<1.10' 'psycopg[binary]'
fi

if [ -z "${ATLAS_BIN:-}" ]; then
    (cd "$ROOT" && swift build --scratch-path .build-dbt-compare --product atlas >&2)
    ATLAS_BIN="$ROOT/.build-dbt-compare/debug/atlas"
fi

rm -rf "$WORK"
mkdir -p "$WORK/dbt" "$WORK/out"
cp -R "$PROJECT/." "$WORK/dbt/"
cat > "$WORK/dbt/profiles.yml" <<PROFILE
$(sed -n "s/^profile: *['\"]\{0,1\}\([A-Za-z0-9_]*\).*/\1/p" "$PROJECT/dbt_project.yml"):
  target: dev
  outputs:
    dev:
      type: duckdb
      path: $WORK/dbt.duckdb
      threads: 1
PROFILE

echo "== dbt $("$VENV/bin/dbt" --version | sed -n 's/.*installed: *//p' | head -1) on DuckDB"
DBT_STATUS=0
(
    cd "$WORK/dbt"
    export DBT_PROFILES_DIR="$WORK/dbt" DBT_SEND_ANONYMOUS_USAGE_STATS=false
    "$VENV/bin/dbt" seed --quiet
    "$VENV/bin/dbt" run --quiet
    "$VENV/bin/dbt" run --quiet
    "$VENV/bin/dbt" test --quiet > "$WORK/out/dbt-test.log" 2>&1 || exit 3
) || DBT_STATUS=$?
if [ "$DBT_STATUS" -ne 0 ] && [ "$DBT_STATUS" -ne 3 ]; then
    echo "dbt-compare: dbt failed (status $DBT_STATUS)" >&2
    exit 1
fi
echo "dbt test: $([ "$DBT_STATUS" -eq 0 ] && echo pass || echo 'failures (see out/dbt-test.log)')"

run_atlas() {
    local label="$1" url="$2"
    echo "== atlas on $label"
    local status=0
    ATLAS_DATABASE_URL="$url" ATLAS_LOG_LEVEL=error "$ATLAS_BIN" data seed --project "$PROJECT" > "$WORK/out/atlas-$label-seed.log"
    ATLAS_DATABASE_URL="$url" ATLAS_LOG_LEVEL=error "$ATLAS_BIN" data run --project "$PROJECT" > "$WORK/out/atlas-$label-run1.log"
    ATLAS_DATABASE_URL="$url" ATLAS_LOG_LEVEL=error "$ATLAS_BIN" data run --project "$PROJECT" > "$WORK/out/atlas-$label-run2.log"
    ATLAS_DATABASE_URL="$url" ATLAS_LOG_LEVEL=error "$ATLAS_BIN" data test --project "$PROJECT" > "$WORK/out/atlas-$label-test.log" || status=$?
    tail -n 1 "$WORK/out/atlas-$label-run2.log"
    tail -n 1 "$WORK/out/atlas-$label-test.log"
    if [ "$status" -ne 0 ] && [ "$DBT_STATUS" -eq 0 ]; then
        echo "dbt-compare: atlas data test failed on $label where dbt test passed" >&2
        return 1
    fi
}

BACKENDS=(sqlite)
run_atlas sqlite "sqlite:///$WORK/atlas.db"
if [ -n "${ATLAS_TEST_POSTGRES_URL:-}" ]; then
    run_atlas postgres "$ATLAS_TEST_POSTGRES_URL"
    BACKENDS+=(postgres)
fi

"$VENV/bin/python" "$ROOT/scripts/dbt-compare/export.py" \
    --project "$PROJECT" --duckdb "$WORK/dbt.duckdb" --sqlite "$WORK/atlas.db" \
    ${ATLAS_TEST_POSTGRES_URL:+--postgres "$ATLAS_TEST_POSTGRES_URL"} --out "$WORK/out"
