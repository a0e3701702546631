#!/usr/bin/env bash
# Atlas — HTTP
# SPDX-License-Identifier: Apache-2.0
#
# Builds the request-parser fuzzer (libFuzzer + AddressSanitizer, whose LeakSanitizer checks for
# leaks at exit) and runs it for a bounded time. Findings land in fuzz/out/artifacts/.
#
#   fuzz/run.sh [seconds]        default 60
#
# SwiftPM's --sanitize=fuzzer links libFuzzer but does not instrument dependencies for coverage,
# so the coverage flags are passed to every Swift module explicitly (inline 8-bit counters and a PC
# table are what current libFuzzer reads).
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
scratch="${FUZZ_SCRATCH_PATH:-$here/../.build-fuzz}"

swift build --package-path "$here" --scratch-path "$scratch" -c debug \
    --sanitize=fuzzer --sanitize=address \
    -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp

mkdir -p "$here/out/corpus" "$here/out/artifacts"
exec "$scratch/debug/RequestParserFuzzer" \
    -max_total_time="$seconds" \
    -detect_leaks=1 \
    -timeout=10 \
    -rss_limit_mb=4096 \
    -max_len=4096 \
    -print_final_stats=1 \
    -dict="$here/http.dict" \
    -artifact_prefix="$here/out/artifacts/" \
    "$here/out/corpus" "$here/corpus"
