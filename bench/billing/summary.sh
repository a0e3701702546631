#!/usr/bin/env bash
# Atlas — bench
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/billing/summary.sh [EVENTS]
#
# Times the daily usage summary (`GET /metrics/usage/daily`'s query) over EVENTS stored usage
# events (default 1,000,000) on a SQLite file, in two layouts: all events inside the last 24 hours
# (the worst case for the window's leading partial hour) and events spread over 30 days. 20 tenants,
# 30 timed runs each after the load; prints median, p90 and max. Runs the gated Swift Testing case
# Tests/BillingTests/Benchmarks/SummaryBenchmarkTests.swift, which fails if a median reaches 50 ms.
# CONFIG=release builds optimised (slower to build; the query time is SQLite's either way).
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-1000000}"
CONFIG="${CONFIG:-debug}"
ATLAS_BENCH_SUMMARY=1 ATLAS_BENCH_EVENTS="$EVENTS" \
    swift test -c "$CONFIG" --filter SummaryBenchmarkTests 2>&1 | grep -E "summary-bench|✘|✔ Test run|error:" || true
