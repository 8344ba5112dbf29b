#!/usr/bin/env bash
# The project's dbt conventions (dbt-bouncer.yml), checked on the manifest and the
# catalog of a build: `ai-gate build`, `dbt docs generate` (which must run clean),
# then dbt-bouncer. Uses the database ai-gate resolves (scripts/test.sh gives it a
# throwaway embedded one); dbt's artifacts go to a temporary folder, not target/.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="$(mktemp -d)"
trap 'rm -rf "$artifacts"' EXIT
export DBT_TARGET_PATH="$artifacts/target" DBT_LOG_PATH="$artifacts/logs"

.venv/bin/ai-gate init-dev >/dev/null
.venv/bin/ai-gate build >"$artifacts/build.log" 2>&1 || { cat "$artifacts/build.log"; exit 1; }
.venv/bin/ai-gate exec -- .venv/bin/dbt docs generate --project-dir . >"$artifacts/docs.log" 2>&1 \
  || { cat "$artifacts/docs.log"; exit 1; }
if grep -Ei '\[WARNING\]|warning:' "$artifacts/docs.log"; then
  echo "dbt docs generate: warnings (above)" >&2
  exit 1
fi
sed "s|^dbt_artifacts_dir:.*|dbt_artifacts_dir: $DBT_TARGET_PATH|" dbt-bouncer.yml \
  >"$artifacts/dbt-bouncer.yml"
.venv/bin/dbt-bouncer run --config-file "$artifacts/dbt-bouncer.yml" --show-all-failures
