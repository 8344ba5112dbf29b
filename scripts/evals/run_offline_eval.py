"""The checklist's offline-eval entry point: `python scripts/evals/run_offline_eval.py
FILE [options]` is `ai-gate run FILE [options]`, the same library code with the same
options, outputs and exit codes: 0 every gate passed, 2 a gate failed, 3 the input was
rejected (nothing written), 4 inconclusive, 1 a runtime failure, 64 a usage error.
`--help` lists the options (docs/eval-gates.md).
"""

from __future__ import annotations

import sys

from ai_gate.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
