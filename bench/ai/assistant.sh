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
# Swift Testing captures a backtrace for every error thrown while a test runs; `POST /ai/runs` in
# `atlas serve` has no such hook, and JSON decoding throws (and catches) on every value it reads.
# Off by default here so the figures are the server's; pass SWT_SWIFT_ERROR_BACKTRACING_ENABLED=1
# to measure with it.
export SWT_SWIFT_ERROR_BACKTRACING_ENABLED="${SWT_SWIFT_ERROR_BACKTRACING_ENABLED:-0}"
ATLAS_BENCH=1 swift test "${configuration[@]}" --scratch-path "${ATLAS_BENCH_SCRATCH:-.build-bench}" \
    --filter 'AITests.AssistantBenchmark' 2>&1 | grep -E "assistant benchmark|cache (miss|hit)|parts|passed|failed|error"
