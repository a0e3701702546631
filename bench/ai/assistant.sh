#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# The assistant graph with the local provider over 1,000 documents: p50 on a semantic-cache miss
# (goal < 10 ms) and on a hit (goal < 2 ms). Debug build by default; pass --release for release.
set -euo pipefail
cd "$(dirname "$0")/../.."
configuration=(-c debug)
if [[ "${1:-}" == "--release" ]]; then configuration=(-c release -Xswiftc -enable-testing); fi
ATLAS_BENCH=1 swift test "${configuration[@]}" --scratch-path "${ATLAS_BENCH_SCRATCH:-.build-bench}" \
    --filter 'AITests.AssistantBenchmark' 2>&1 | grep -E "assistant benchmark|cache (miss|hit)|passed|failed|error"
