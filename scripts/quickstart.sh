#!/usr/bin/env bash
# Installs ai-gate and runs its main job on the embedded PostgreSQL (or on the
# database DATABASE_URL / PG* name): build the project, then show the effective routing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ai-gate build
.venv/bin/ai-gate flags
