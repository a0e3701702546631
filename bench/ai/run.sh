#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/ai/run.sh [graph-overhead]
#
# graph-overhead: the agent graph engine's cost per superstep with no-op nodes, for chains of one
# and four parallel branches, with checkpoints in memory and stored on SQLite (and PostgreSQL when
# ATLAS_TEST_POSTGRES_URL is set, e.g. under scripts/with-postgres.sh). Runs the ATLAS_BENCH-gated
# Swift Testing suite GraphOverheadBenchmark in release mode and prints its figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
WHAT="${1:-graph-overhead}"
case "$WHAT" in
  graph-overhead)
    ATLAS_BENCH=1 swift test -c release --scratch-path "${ATLAS_BENCH_SCRATCH:-.build-bench}" \
      --filter GraphOverheadBenchmark 2>&1 | grep -E '^graph-overhead|passed|failed' ;;
  *) echo "unknown benchmark $WHAT" >&2; exit 64 ;;
esac
