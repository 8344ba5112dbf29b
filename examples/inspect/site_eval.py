"""ai-gate importer example for inspect-ai (docs/importers.md): five samples, three
epochs, two scorers named after ai-gate fields, run offline on `mockllm/model` with
canned outputs that carry token usage (and, for one case, its cost). One sample is
flaky (unsafe on every second attempt), one always unsafe, one not JSON, and one errors
(the model call raises).

    python examples/inspect/site_eval.py LOG_DIR          # writes one JSON log
    python examples/inspect/site_eval.py LOG_DIR eval     # one .eval log (inspect's default)
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from inspect_ai import Task, eval, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState, generate

CASES = {
    "bakery": "a bakery",
    "flaky-hero": "a surf school",
    "unsafe-embed": "a video channel",
    "broken-json": "a law firm",
    "provider-error": "a dentist",
}
attempts: Counter[str] = Counter()


def canned(messages, tools, tool_choice, config) -> ModelOutput:  # noqa: ANN001
    prompt = messages[-1].text
    case = next(case for case, business in CASES.items() if business in prompt)
    attempts[case] += 1
    if case == "provider-error":
        raise RuntimeError("upstream timeout after 45000 ms")
    unsafe = case == "unsafe-embed" or (case == "flaky-hero" and attempts[case] % 2 == 0)
    html = '<div class="p-4"><script>track()</script></div>' if unsafe else "<div>Welcome</div>"
    body = '{"title": "unterminated' if case == "broken-json" else json.dumps({"html": html})
    output = ModelOutput.from_content(model="mockllm/model", content=body)
    # usage varying by case and attempt; the bakery's calls also report their cost
    input_tokens = 20 + 3 * len(case)
    output_tokens = 12 + 10 * len(case) + attempts[case]
    output.usage = ModelUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        total_cost=(input_tokens * 2.5 + output_tokens * 10) / 1e6 if case == "bakery" else None,
    )
    return output


@scorer(metrics=[])
def schema_valid() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        try:
            json.loads(state.output.completion)
        except ValueError:
            return Score(value=INCORRECT)
        return Score(value=CORRECT)

    return score


@scorer(metrics=[])
def safety_html_tailwind_compliant() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=INCORRECT if "<script" in state.output.completion else CORRECT)

    return score


@task
def site_generation() -> Task:
    return Task(
        dataset=[
            Sample(id=case, input=f"Generate a one-page site as JSON for {business}.")
            for case, business in CASES.items()
        ],
        solver=generate(),
        scorer=[schema_valid(), safety_html_tailwind_compliant()],
    )


if __name__ == "__main__":
    eval(
        site_generation(),
        model=get_model("mockllm/model", custom_outputs=canned),
        epochs=3,
        log_dir=sys.argv[1],
        log_format=sys.argv[2] if len(sys.argv) > 2 else "json",
        fail_on_error=False,
        max_samples=1,
        display="none",
    )
