#!/usr/bin/env bash
# Atlas — installs the Debian packages a build, the tests or the benchmarks need, only those missing.
# Usage: scripts/install-deps.sh [build|test|bench]   (each set includes the ones before it)
set -euo pipefail

# libcurl: FoundationNetworking, which the test suites' own HTTP calls use (atlas itself does not).
want=(pkg-config libsqlite3-dev libpq-dev libssl-dev zlib1g-dev libcurl4-openssl-dev)
case "${1:-build}" in
  build) ;;
  test) want+=(postgresql python3 python3-yaml python3-venv jq openssl curl) ;;
  bench) want+=(postgresql python3 python3-yaml python3-venv jq openssl curl wrk nginx-light) ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 64 ;;
esac

missing=()
for package in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# nginx-light is satisfied by any installed nginx flavour.
if [[ " ${missing[*]-} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
  missing=("${missing[@]/nginx-light}")
fi
missing=(${missing[@]+"${missing[@]}"})
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v swift >/dev/null 2>&1; then
  echo "swift is not on PATH: install the Swift 6.x toolchain first (https://swift.org/install)" >&2
  exit 69
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
