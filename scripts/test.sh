#!/usr/bin/env bash
# Installs ai-gate, lints (ruff, sqlfluff, dbt-bouncer) and runs the whole test suite against a real
# PostgreSQL: the server DATABASE_URL / PG* name, else an embedded PostgreSQL 18.
# AI_GATE_SKIP_LINT=1 skips the lint step (CI lints once, then tests a second server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "${XDG_RUNTIME_DIR}" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  chmod 700 "$XDG_RUNTIME_DIR"
  export XDG_RUNTIME_DIR
fi

if [ "${AI_GATE_SKIP_LINT:-0}" != "1" ]; then
  echo "== ruff"
  .venv/bin/ruff check runner scripts examples
  .venv/bin/ruff format --check runner scripts examples
  echo "== sqlfluff (dbt templater, through ai-gate's database)"
  # The dbt templater compiles through the profile, so it needs a database: use a
  # throwaway embedded one unless a server is configured.
  lint_data_dir="$(mktemp -d)"
  trap 'AI_GATE_DATA_DIR="$lint_data_dir" .venv/bin/ai-gate db stop >/dev/null 2>&1 || true; rm -rf "$lint_data_dir"' EXIT
  AI_GATE_DATA_DIR="$lint_data_dir" .venv/bin/ai-gate exec -- .venv/bin/sqlfluff lint models macros tests analyses
  echo "== dbt conventions (dbt-bouncer on a build of the same throwaway database)"
  AI_GATE_DATA_DIR="$lint_data_dir" bash scripts/check_dbt_conventions.sh
  echo "== sqlfluff again, on the built database (is_incremental() is true there)"
  # Lint gives the same answer whatever the database holds: the incremental models
  # render their incremental branch only once their tables exist.
  AI_GATE_DATA_DIR="$lint_data_dir" .venv/bin/ai-gate exec -- .venv/bin/sqlfluff lint \
    models/telemetry/latency
fi

echo "== pytest"
# The suite's yardstick: one `ai-gate build` of the project into a fresh database on
# the same server and machine, measured in this run (the suite must stay within 20 of
# them).
build_seconds="$(.venv/bin/python scripts/time_build.py)"
# On every core (at most four workers: each builds its own template database); tests
# that share a module fixture are one xdist_group, so it is built once; the ten
# slowest tests, so the feedback loop's cost stays visible.
started="$(date +%s)"
status=0
.venv/bin/python -m pytest runner/tests --numprocesses=auto --maxprocesses=4 \
  --dist=loadgroup --durations=10 "$@" || status=$?
awk -v suite="$(( $(date +%s) - started ))" -v build="$build_seconds" 'BEGIN {
  printf "== suite: %d s = %.1f times one ai-gate build (%.1f s), measured in this run\n",
    suite, suite / build, build }'
exit "$status"
