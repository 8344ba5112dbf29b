{#-
    Post-hook of ai_eval_run_judgement: (re)creates

      ai_eval_replay_judgement(replayed_run_id, proposed_thresholds, proposed_gate_policy)

    the rows ai_eval_run_judgement has for one stored run, judged under a proposed
    thresholds snapshot and gate policy instead of the run's own (null: the run's own).
    The same rules (the macro eval_run_judgement) over the same stored summary, so a
    run replayed under its stored policy is judged as it was. Read-only; `ai-gate
    replay` calls it once per run, with constants, so the run's filter reaches the
    summary as a query of the view about one run does.
-#}
{% macro create_eval_replay_judgement() %}
{%- set runs = ref('ai_eval_runs').include(database=false) -%}

create or replace function {{ this.schema }}.ai_eval_replay_judgement(
    replayed_run_id text, proposed_thresholds jsonb, proposed_gate_policy jsonb
)
returns table (
    run_id text,
    gate text,
    metric text,
    comparator text,
    threshold numeric,
    min_samples bigint,
    observed double precision,
    observed_count bigint,
    ci_low double precision,
    ci_high double precision,
    policy text,
    lower_bound double precision,
    upper_bound double precision,
    status text
)
language sql
stable
as $replay$
{{ eval_run_judgement(
    "select run_id, baseline_run_id,"
    ~ " coalesce(proposed_thresholds, thresholds) as thresholds,"
    ~ " coalesce(proposed_gate_policy, gate_policy) as gate_policy"
    ~ " from " ~ runs ~ " where run_id = replayed_run_id",
    in_function=true
) }}
$replay$;

{% endmacro %}
