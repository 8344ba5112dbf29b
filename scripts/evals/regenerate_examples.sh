#!/usr/bin/env bash
# Regenerate the eval tools' example outputs under examples/ with the real tools, run
# offline with local providers (docs/importers.md). The tests read the committed
# outputs; CI does not run this.
#   promptfoo 0.121.20 (npm; 0.123 needs Node >= 22.22): examples/promptfoo/results.json
#   inspect-ai 0.3.285 (PyPI; mockllm/model, JSON log):   examples/inspect/site_generation.json
#     and the same evaluation in inspect's default .eval log: examples/inspect/site_generation.eval
#   deepeval 4.3.1 (PyPI; non-LLM metrics only):           examples/deepeval/test_run.json
set -euo pipefail
cd "$(dirname "$0")/../.."

tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
npm install --prefix "$tools" --no-audit --no-fund --silent promptfoo@0.121.20 >/dev/null

export PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1
export PROMPTFOO_CONFIG_DIR="$tools/config"
cd examples/promptfoo
# exit 100 means some checks failed, which the example is made to show
"$tools/node_modules/.bin/promptfoo" eval -c promptfooconfig.yaml --repeat 3 --no-cache \
  -j 1 --no-table -o results.json || [ $? -eq 100 ]
echo "wrote examples/promptfoo/results.json"
cd ../..

python3 -m venv "$tools/venv"
"$tools/venv/bin/pip" install -q inspect-ai==0.3.285
"$tools/venv/bin/python" examples/inspect/site_eval.py "$tools/inspect-logs"
cp "$tools"/inspect-logs/*.json examples/inspect/site_generation.json
echo "wrote examples/inspect/site_generation.json"
"$tools/venv/bin/python" examples/inspect/site_eval.py "$tools/inspect-eval-logs" eval
cp "$tools"/inspect-eval-logs/*.eval examples/inspect/site_generation.eval
echo "wrote examples/inspect/site_generation.eval"

"$tools/venv/bin/pip" install -q deepeval==4.3.1
mkdir "$tools/deepeval-results"
# deepeval keeps a .deepeval folder in the working directory: run it in the temporary one
(cd "$tools" && DEEPEVAL_TELEMETRY_OPT_OUT=1 DEEPEVAL_DISABLE_DOTENV=1 \
  DEEPEVAL_RESULTS_FOLDER="$tools/deepeval-results" \
  "$tools/venv/bin/python" "$OLDPWD/examples/deepeval/site_eval.py" >/dev/null)
cp "$tools"/deepeval-results/test_run_*.json examples/deepeval/test_run.json
echo "wrote examples/deepeval/test_run.json"
