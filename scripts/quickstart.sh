#!/usr/bin/env bash
# Installs ai-gate and runs its main job on the embedded PostgreSQL (or on the
# database DATABASE_URL / PG* name): build the project, show the effective routing,
# and run the release gate on the passing example records (exit 0 = every gate passed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ai-gate build
.venv/bin/ai-gate flags
.venv/bin/ai-gate run examples/evals/passing.jsonl --env prod
