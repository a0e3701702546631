#!/usr/bin/env bash
# Atlas — Bench
# SPDX-License-Identifier: Apache-2.0
#
# wrk against atlas, a minimal Hummingbird 2 app and nginx, interleaved; see bench/README.md.
# Usage: bench/run.sh [--duration S] [--rounds R] [--warmup S] [--only atlas,hummingbird,nginx]
#                     [--connections 64,256] [--skip-build]
# Environment: ATLAS_BIN (atlas command, words split on spaces; skips the atlas build),
#              BENCH_PORT_BASE (first of three loopback ports, default 18480).
# Progress goes to stderr; the Markdown report to stdout and to bench/out/latest.md.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$bench_dir/.." && pwd)
command_line="bench/run.sh${*:+ $*}"

duration=10
rounds=3
warmup=2
only=atlas,hummingbird,nginx
connections=64,256
skip_build=0

usage() { sed -n '5,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --connections) connections=${2:?}; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
for number in "$duration" "$rounds" "$warmup"; do
  [[ "$number" =~ ^[0-9]+$ ]] || { echo "not a whole number: $number" >&2; exit 64; }
done
[ "$duration" -ge 1 ] && [ "$rounds" -ge 1 ] || { echo "--duration and --rounds must be at least 1" >&2; exit 64; }
IFS=, read -r -a conn_list <<< "$connections"
for conns in "${conn_list[@]}"; do
  [[ "$conns" =~ ^[1-9][0-9]*$ ]] || { echo "not a connection count: $conns" >&2; exit 64; }
done
servers=()
IFS=, read -r -a wanted <<< "$only"
for server in atlas hummingbird nginx; do
  for name in "${wanted[@]}"; do [ "$name" = "$server" ] && servers+=("$server"); done
done
for name in "${wanted[@]}"; do
  case "$name" in atlas|hummingbird|nginx) ;; *) echo "unknown server: $name" >&2; exit 64 ;; esac
done
[ ${#servers[@]} -gt 0 ] || { echo "--only names no server" >&2; exit 64; }
selected() { [[ " ${servers[*]} " == *" $1 "* ]]; }

log() { printf '%s\n' "$*" >&2; }

# ------------------------------------------------------------------------------- packages
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if selected nginx && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  missing+=(nginx-light)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
report() { python3 "$bench_dir/report.py" "$@"; }

# --------------------------------------------------------------------------------- builds
atlas_cmd=()
if selected atlas; then
  if [ -n "${ATLAS_BIN:-}" ]; then
    read -r -a atlas_cmd <<< "$ATLAS_BIN"
  else
    if [ "$skip_build" -eq 0 ]; then
      log "Building atlas (release)…"
      (cd "$repo_root" && swift build -c release --static-swift-stdlib --product atlas >&2)
    fi
    atlas_cmd=("$(cd "$repo_root" && swift build -c release --static-swift-stdlib --show-bin-path)/atlas")
  fi
  command -v "${atlas_cmd[0]}" >/dev/null 2>&1 || { log "atlas command not found: ${atlas_cmd[0]}"; exit 1; }
fi
hummingbird_package="$bench_dir/hummingbird/baseline"
hummingbird_bin=""
if selected hummingbird; then
  if [ "$skip_build" -eq 0 ]; then
    log "Building the Hummingbird baseline (release; the first build takes minutes)…"
    swift build -c release --package-path "$hummingbird_package" >&2
  fi
  hummingbird_bin="$(swift build -c release --package-path "$hummingbird_package" --show-bin-path)/hummingbird-baseline"
  [ -x "$hummingbird_bin" ] || { log "not built: $hummingbird_bin"; exit 1; }
fi

# ------------------------------------------------------------------------ run directories
port_base=${BENCH_PORT_BASE:-18480}
declare -A port=([atlas]=$port_base [hummingbird]=$((port_base + 1)) [nginx]=$((port_base + 2)))
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
out_dir="$bench_dir/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out_dir"
results="$out_dir/results.jsonl"
: > "$results"
tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/atlas-bench.XXXXXX")
server_pid=""
wrk_pid=""

# wrk runs in the background and is waited for, so that a signal interrupts the wait at once (bash
# runs traps only between foreground commands) and cleanup can stop wrk too.
run_wrk() {
  local output=$1; shift
  wrk "$@" > "$output" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || true
  wrk_pid=""
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  [ -z "$wrk_pid" ] || kill -TERM "$wrk_pid" 2>/dev/null || true
  stop_server
  rm -rf "$tmp_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for server in "${servers[@]}"; do
  if report wait "http://127.0.0.1:${port[$server]}/health/live" --timeout 0.3 2>/dev/null; then
    log "port ${port[$server]} already answers: stop that server or set BENCH_PORT_BASE"; exit 1
  fi
done

# Starts a fresh server process for each measured run, so its CPU and peak RSS belong to that run.
# Sets server_pid; the logs of the instance go to $1.
start_server() {
  local server=$1 logs=$2
  mkdir -p "$logs"
  case "$server" in
    atlas)
      # The JSON access log stays on (it is part of atlas's cost) but goes to a file.
      env ATLAS_DATABASE_URL="sqlite:///$tmp_dir/bench.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="${port[atlas]}" \
        ATLAS_ENABLE_DEBUG_ROUTES=true "${atlas_cmd[@]}" serve > "$logs/stdout.log" 2> "$logs/stderr.log" &
      ;;
    hummingbird)
      "$hummingbird_bin" "${port[hummingbird]}" > "$logs/stdout.log" 2> "$logs/stderr.log" &
      ;;
    nginx)
      mkdir -p "$logs/tmp"
      sed "s/@PORT@/${port[nginx]}/" "$bench_dir/nginx/nginx.conf" > "$logs/nginx.conf"
      "$nginx_bin" -p "$logs/" -c "$logs/nginx.conf" -e "$logs/error.log" -g 'daemon off;' \
        > "$logs/stdout.log" 2> "$logs/stderr.log" &
      ;;
  esac
  server_pid=$!
  report wait "http://127.0.0.1:${port[$server]}/health/live" --pid "$server_pid" --timeout 60
}

# Keeps the last lines of a finished instance's logs with the raw results, then frees the space
# (atlas's access log grows by about a line per request).
keep_logs() {
  local logs=$1 name=$2 file
  for file in "$logs"/*.log; do
    [ -f "$file" ] && tail -n 20 "$file" > "$out_dir/$name.$(basename "$file")"
  done
  rm -rf "$logs"
}

commit="$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo none)"
git -C "$repo_root" diff --quiet HEAD 2>/dev/null || commit="$commit (uncommitted changes)"
python3 -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2])), indent=1))' \
  started "$started" command "$command_line" duration "$duration" rounds "$rounds" warmup "$warmup" \
  out_dir "${out_dir#"$repo_root"/}" commit "$commit" \
  machine "$(nproc) cores, $(uname -sr), load avg $(cut -d' ' -f1-3 /proc/loadavg) at start" \
  versions "$(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2), $("$nginx_bin" -v 2>&1 | sed 's/.*: //'), $(swift --version 2>&1 | grep -o 'Swift version [0-9.]*' | head -n1), Hummingbird 2.28.1" \
  > "$out_dir/meta.json"

failures=0
log "Results go to $out_dir"
for round in $(seq "$rounds"); do
  log "Round $round of $rounds"
  for scenario in health echo; do
    for conns in "${conn_list[@]}"; do
      for server in "${servers[@]}"; do
        key=(--out "$results" --server "$server" --scenario "$scenario" --connections "$conns" --round "$round")
        if [ "$server" = nginx ] && [ "$scenario" = echo ]; then
          [ "$round" -eq 1 ] && report skip "${key[@]}" --reason "no echo route" --na
          continue
        fi
        name="round$round-$server-$scenario-c$conns"
        logs="$tmp_dir/$name"
        base="http://127.0.0.1:${port[$server]}"
        if [ "$scenario" = health ]; then
          url="$base/health/live" script="$bench_dir/wrk/health.lua"
        else
          url="$base/debug/echo" script="$bench_dir/wrk/echo.lua"
        fi
        if ! start_server "$server" "$logs" 2> "$out_dir/$name.start.txt"; then
          log "  $server did not start: $(tail -n1 "$out_dir/$name.start.txt")"
          report skip "${key[@]}" --reason "server did not start"
          failures=$((failures + 1)); stop_server; keep_logs "$logs" "$name"; continue
        fi
        if ! report smoke "$base" "$scenario" 2> "$out_dir/$name.smoke.txt"; then
          log "  $server $scenario: wrong answer, not measured: $(tail -n1 "$out_dir/$name.smoke.txt")"
          report skip "${key[@]}" --reason "wrong answer (see $name.smoke.txt)"
          failures=$((failures + 1)); stop_server; keep_logs "$logs" "$name"; continue
        fi
        if [ "$warmup" -gt 0 ]; then
          run_wrk "$out_dir/$name.warmup.txt" -t1 -c"$conns" -d"${warmup}s" -s "$script" "$url"
        fi
        loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
        before=$(report sample "$server_pid")
        run_wrk "$out_dir/$name.wrk.txt" -t1 -c"$conns" -d"${duration}s" --timeout 10s --latency -s "$script" "$url"
        after=$(report sample "$server_pid")
        if kill -0 "$server_pid" 2>/dev/null && grep -q '^BENCH_RESULT ' "$out_dir/$name.wrk.txt"; then
          report record "${key[@]}" --wrk "$out_dir/$name.wrk.txt" --before "$before" --after "$after" \
            --loadavg "$loadavg"
        else
          log "  $server $scenario c$conns: server died or wrk failed (see $name.wrk.txt)"
          report skip "${key[@]}" --reason "server died or wrk failed"
          failures=$((failures + 1))
        fi
        stop_server
        keep_logs "$logs" "$name"
      done
    done
  done
done

find "$out_dir" -type f -empty -delete
report render "$results" "$out_dir/meta.json" > "$out_dir/report.md"
cp "$out_dir/report.md" "$bench_dir/out/latest.md"
cat "$out_dir/report.md"
if [ "$failures" -gt 0 ]; then
  log "$failures run(s) not measured; see the table and $out_dir"
  exit 1
fi
