"""ai-gate importer example for deepeval (docs/importers.md): five test cases, two
non-LLM metrics named after ai-gate fields, run offline; one case is always unsafe,
one is not JSON, and one metric errors on one case (ignore_errors keeps the run).

    DEEPEVAL_RESULTS_FOLDER=DIR python examples/deepeval/site_eval.py
"""

from __future__ import annotations

import json

from deepeval import evaluate
from deepeval.evaluate import AsyncConfig, DisplayConfig, ErrorConfig
from deepeval.metrics import BaseMetric
from deepeval.test_case import LLMTestCase

SAFE = '{"html": "<div>Welcome</div>"}'
OUTPUTS = {
    "bakery": SAFE,
    "surf-school": SAFE,
    "unsafe-embed": '{"html": "<div><script>track()</script></div>"}',
    "broken-json": '{"title": "unterminated',
    "metric-error": SAFE,
}


class SchemaValid(BaseMetric):
    threshold = 1.0

    def __init__(self) -> None:
        self.threshold = 1.0

    @property
    def __name__(self) -> str:
        return "schema_valid"

    def measure(self, test_case: LLMTestCase, *args: object, **kwargs: object) -> float:
        try:
            json.loads(test_case.actual_output)
            self.score = 1.0
        except ValueError:
            self.score = 0.0
        self.success = self.score >= self.threshold
        return self.score

    async def a_measure(self, test_case: LLMTestCase, *args: object, **kwargs: object) -> float:
        return self.measure(test_case)

    def is_successful(self) -> bool:
        return bool(self.success)


class SafetyCompliant(SchemaValid):
    @property
    def __name__(self) -> str:
        return "safety_html_tailwind_compliant"

    def measure(self, test_case: LLMTestCase, *args: object, **kwargs: object) -> float:
        if test_case.name == "metric-error":
            raise RuntimeError("safety checker unavailable")
        self.score = 0.0 if "<script" in test_case.actual_output else 1.0
        self.success = self.score >= self.threshold
        return self.score


if __name__ == "__main__":
    evaluate(
        test_cases=[
            LLMTestCase(name=case, input=f"Generate a site for {case}.", actual_output=output)
            for case, output in OUTPUTS.items()
        ],
        metrics=[SchemaValid(), SafetyCompliant()],
        async_config=AsyncConfig(run_async=False),
        display_config=DisplayConfig(show_indicator=False, print_results=False),
        error_config=ErrorConfig(ignore_errors=True),
    )
