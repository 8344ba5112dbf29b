#!/usr/bin/env bash
# Creates .venv (if missing) and installs ai-gate from this checkout with its dev tools,
# every dependency at the version pinned in constraints.txt (scripts/lock.sh refreshes it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
