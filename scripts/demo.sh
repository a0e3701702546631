#!/usr/bin/env bash
# Atlas — scripts
# SPDX-License-Identifier: Apache-2.0
#
# Usage: scripts/demo.sh [--quiet] [--keep]
#
# Starts `atlas serve` on a fresh SQLite file and a free port, then walks the story of DEMO.md with
# curl and jq: login, a tenant and a member, documents and search, the assistant answering on its
# own and a question routed to human review and approved, a signed Stripe event changing a plan, the
# billing preview, usage and metrics. Every step checks its answer; the first wrong one stops the
# demo with exit code 1 and the server's last log lines.
#   ATLAS_BIN   the atlas executable (default: .build/debug/atlas, else .build/release/atlas)
#   --quiet     print only failures (used by `make test`, Tests/AtlasTests/DemoScriptTests.swift)
#   --keep      leave the server running at the end and print its URL
set -euo pipefail

quiet=0
keep=0
for argument in "$@"; do
  case "$argument" in
    --quiet) quiet=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--quiet] [--keep]" >&2; exit 64 ;;
  esac
done
for tool in curl jq openssl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "demo: $tool is required (scripts/install-deps.sh test installs it)" >&2; exit 69; }
done

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${ATLAS_BIN:-}"
if [ -z "$bin" ]; then
  for candidate in "$root/.build/debug/atlas" "$root/.build/release/atlas"; do
    [ -x "$candidate" ] && bin="$candidate" && break
  done
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "demo: no atlas executable; run swift build or set ATLAS_BIN" >&2; exit 69; }

work="$(mktemp -d "${TMPDIR:-/tmp}/atlas-demo.XXXXXX")"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
pid=""
cleanup() {
  if [ -n "$pid" ] && [ "$keep" -eq 0 ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  [ "$keep" -eq 1 ] || rm -rf "$work"
}
trap cleanup EXIT

say() { [ "$quiet" -eq 1 ] || printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { [ "$quiet" -eq 1 ] || jq . <<<"$1" 2>/dev/null || printf '%s\n' "$1"; }
fail() {
  echo "demo: $*" >&2
  echo "demo: last server log lines:" >&2
  tail -n 20 "$work/atlas.log" >&2 || true
  exit 1
}

# call METHOD PATH EXPECTED_STATUS [curl arguments...]: the body goes to $body, the status to $status.
call() {
  local method="$1" path="$2" expected="$3"
  shift 3
  local output
  output="$(curl -sS -X "$method" "$base$path" -w '\n%{http_code}' "$@")" || fail "$method $path: curl failed"
  status="${output##*$'\n'}"
  body="${output%$'\n'*}"
  [ "$status" = "$expected" ] || fail "$method $path answered $status, expected $expected: $body"
  show "$body"
}

# expect JQ_FILTER: the filter must print true for the last body.
expect() {
  [ "$(jq -r "$1" <<<"$body")" = "true" ] || fail "expected $1 in: $body"
}

say "start atlas on a fresh SQLite file ($work/atlas.db), port $port"
ATLAS_DATABASE_URL="sqlite:///$work/atlas.db" ATLAS_HOST=127.0.0.1 ATLAS_PORT="$port" \
  ATLAS_STRIPE_WEBHOOK_SECRET=whsec_demo ATLAS_AI_EVALUATION_MODE=fast \
  "$bin" serve >"$work/atlas.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -s -o /dev/null "$base/health/live" && break
  kill -0 "$pid" 2>/dev/null || fail "atlas exited during start-up"
  sleep 0.1
done
call GET /health/live 200
expect '.status == "ok"'
call GET /health/ready 200
expect '.status == "ready"'

say "log in as the bootstrap admin (the reference design's command)"
call POST /auth/token 200 -H 'Content-Type: application/json' -d '{"username":"admin@atlas","password":"atlas"}'
token="$(jq -r .access_token <<<"$body")"
auth=(-H "Authorization: Bearer $token")
json=(-H 'Content-Type: application/json')
call GET /tenants/current 200 "${auth[@]}" -H 'X-Atlas-Tenant: demo'
expect '.tenant == "demo" and .usage.plan == "scale"'

say "a tenant and a member"
call POST /tenants 200 "${auth[@]}" "${json[@]}" -d '{"tenant":"globex","plan":"growth"}'
expect '.tenant == "globex" and .usage.plan == "growth"'
call POST /tenants/globex/members 201 "${auth[@]}" "${json[@]}" \
  -d '{"email":"viewer@globex.example","role":"viewer","password":"a long viewer password"}'
call GET /tenants/globex/members 200 "${auth[@]}"
expect '[.. | objects | select(.email? == "viewer@globex.example")] | length == 1'

say "documents and search (tenant demo)"
call POST /ai/documents 201 "${auth[@]}" "${json[@]}" -H 'X-Atlas-Tenant: demo' -d '{"documents":[
  {"title":"Escalations","text":"Escalations are routed to humans through the review queue. A reviewer approves, edits or rejects each drafted answer, and the on-call engineer is paged when a review waits longer than thirty minutes."},
  {"title":"Refunds","text":"Refunds are issued within fourteen days of purchase to the original payment method. Annual plans are refunded pro rata for the unused months."}]}'
expect '.created == 2'
call POST /ai/search 200 "${auth[@]}" "${json[@]}" -H 'X-Atlas-Tenant: demo' -d '{"query":"how long do refunds take","top_k":3}'
expect '.results[0].title == "Refunds"'

# The agent runtime: one question answered automatically, one routed to human review and approved.
# (Served when GET /ai/graphs asks for credentials rather than answering 404.)
if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ai/graphs")" != "404" ]; then
  say "the assistant answers a question its documents support"
  call POST '/ai/runs?wait=true' 201 "${auth[@]}" "${json[@]}" -H 'X-Atlas-Tenant: demo' \
    -d '{"question":"When are refunds issued?"}'
  expect '.status == "completed" and .state.route == "auto" and (.state.response | contains("fourteen days"))'
  say "a question the documents do not answer goes to human review; the reviewer approves"
  call POST '/ai/runs?wait=true' 201 "${auth[@]}" "${json[@]}" -H 'X-Atlas-Tenant: demo' \
    -d '{"question":"How long do refunds take?"}'
  expect '.status == "interrupted" and .interrupt.node == "hitl"'
  run_id="$(jq -r .id <<<"$body")"
  call POST "/ai/runs/$run_id/resume?wait=true" 200 "${auth[@]}" "${json[@]}" -H 'X-Atlas-Tenant: demo' \
    -d '{"decision":"approve","comment":"checked against the refund policy"}'
  expect '.status == "completed" and .state.route == "hitl"'
else
  say "this build serves no agent runtime routes: the AI runs are skipped"
fi

say "a signed Stripe event moves acme to the scale plan"
created="$(date +%s)"
event='{"id":"evt_demo_'"$created"'","type":"customer.subscription.updated","created":'"$created"',"data":{"object":{"id":"sub_demo","customer":"cus_demo","status":"active","metadata":{"tenant":"acme","plan":"scale"}}}}'
signature="$(printf '%s.%s' "$created" "$event" | openssl dgst -sha256 -hmac whsec_demo | awk '{print $NF}')"
call POST /webhooks/stripe 200 -H "Stripe-Signature: t=$created,v1=$signature" "${json[@]}" -d "$event"
expect '.status == "accepted"'
call POST /webhooks/stripe 400 -H "Stripe-Signature: t=$created,v1=$(printf '0%.0s' $(seq 1 64))" "${json[@]}" -d "$event"
call GET /billing/acme/subscription 200 "${auth[@]}"
expect '[.. | strings] | index("scale") != null'
call GET /tenants/acme 200 "${auth[@]}"
expect '[.. | strings] | index("scale") != null'

say "usage, its summary and the invoice preview"
call POST /metrics/usage 202 "${auth[@]}" "${json[@]}" -d '{"tenant":"demo","source":"ai-service","tokens":50000,"latency_ms":120}'
expect '.status == "accepted"'
call GET /metrics/usage/daily 200 "${auth[@]}"
expect 'map(select(.tenant == "demo")) | .[0].tokens >= 50000'
call GET /billing/demo/preview 200 "${auth[@]}"
expect '.tenant == "demo" and .plan == "scale" and (.line_items | length) >= 1'

say "metrics (Prometheus text, open to loopback)"
metrics="$(curl -sS "$base/metrics")"
grep -q '^atlas_http_requests_total' <<<"$metrics" || fail "GET /metrics has no atlas_http_requests_total"
grep -q '^atlas_billing_usage_events_total' <<<"$metrics" || fail "GET /metrics has no atlas_billing_usage_events_total"
[ "$quiet" -eq 1 ] || grep -E '^atlas_(http_requests_total|billing_usage_events_total)' <<<"$metrics" | head -n 5

if [ "$keep" -eq 1 ]; then
  echo "atlas keeps serving on $base (pid $pid, database $work/atlas.db)"
else
  say "done"
fi
