#!/usr/bin/env bash
# Re-resolves ai-gate's dependencies (pyproject.toml, with the dev extra) in a throwaway
# virtual environment and writes every installed version to constraints.txt, which
# scripts/install.sh installs from. Run it after changing a dependency; commit the
# result with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
{
  echo "# Every transitive dependency of ai-gate[dev], pinned: written by scripts/lock.sh."
  "$venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check \
    | grep -v '^ai-gate' | LC_ALL=C sort -f
} > constraints.txt
echo "wrote constraints.txt ($(grep -vc '^#' constraints.txt) packages)"
