-- One row per run and metric of ai_eval_run_summary v2 with its summary (value, n,
-- Wilson interval), and, for each gate the run's own thresholds snapshot switches on
-- for the metric, the gate judged: the observed metric against the threshold,
-- `skipped` when the metric has no data (`inconclusive` for a fail-closed one: usage
-- not reported is not zero usage). A metric no gate judges has one row, its gate
-- null. The judging rules' one home: ai_eval_gate_results is its gate rows, and
-- `ai-gate run` reads a run's summary and gates from it at once (v2 computed once).
-- Under the run's gate policy (ai_eval_runs.gate_policy): `point` (the default) judges
-- the point estimate; `confidence` judges one-sided bounds at the run's z: a minimum
-- passes when its lower bound clears the threshold, fails when its upper bound is
-- below it, and is `inconclusive` in between (a maximum mirrors it). Rates are bounded
-- by Wilson, the p95 latency by order statistics (distribution-free), means (tokens,
-- cost) by Johnson's skewness-corrected interval, the cost ratio to a baseline by the
-- delta method on its log; cost per pass and case_pass_k are judged on their value.
-- Values are rounded to 9 decimals before the comparison, so a rate of exactly the
-- threshold (19/20 against 0.95) is not failed by float noise. The metrics are the
-- rows of ai_eval_run_summary v2 (every metric of the var eval_metrics).
-- A gate with fewer samples than its minimum never passes: it fails when the evidence
-- is conclusive against it (its one-sided bound at the run's below_minimum_z, from the
-- environment's confidence, 0.95 when none, lies on the failing side of the
-- threshold), else it is inconclusive. A run ingested before that rule
-- (no below_minimum_z in its policy) keeps its judgement: inconclusive.
-- The rules are the macro eval_run_judgement's, shared with the function
-- ai_eval_replay_judgement (its post-hook), which judges one stored run under a
-- proposed policy for `ai-gate replay`.

{{ config(post_hook=["{{ create_eval_replay_judgement() }}"]) }}

{{ eval_run_judgement("select * from " ~ ref('ai_eval_runs')) }}
