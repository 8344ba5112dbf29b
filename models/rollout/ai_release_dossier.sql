-- One row per routing change (a change set: the rows of ai_provider_config_changes one
-- command or statement wrote), with the story of that release step in one place: who
-- changed what, when and why; the canary decision in force when it was made (the
-- environment's latest stored decision at or before it that used no synthetic
-- evidence: the `go` that `canary step` requires, the decision `canary evaluate
-- --apply` rolls back on; for a hand-made change, what the canary's evidence said at
-- the time); the canary-evidence eval runs that decision read (its evidence_eval_runs,
-- each with its source file and SHA-256; its --run-id for a decision made before they
-- were listed); and the environment's last rollback drill finished before the change.

with

changes as (

    select * from {{ ref('ai_provider_config_changes') }}

),

decisions as (

    select * from {{ ref('ai_canary_decisions') }}

),

eval_runs as (

    select * from {{ ref('ai_eval_runs') }}

),

drills as (

    select * from {{ ref('ai_rollback_drills') }}

),

change_sets as (

    select
        change_set_id,
        environment,
        min(change_id) as first_change_id,
        max(changed_at) as changed_at,
        min(changed_by) as changed_by,
        min(changed_via) as changed_via,
        min(reason) as reason,
        jsonb_agg(
            jsonb_build_object(
                'change_id', change_id,
                'provider', provider,
                'enabled', enabled,
                'is_default', is_default,
                'weight', weight,
                'before', before_values
            )
            order by change_id
        ) as changes
    from changes
    group by change_set_id, environment

),

with_decision as (

    select
        change_sets.*,
        in_force.decision_id,
        in_force.decision,
        in_force.decided_at,
        in_force.canary,
        in_force.baseline,
        in_force.rules as decision_rules,
        coalesce(
            in_force.evidence_eval_runs,
            case
                when in_force.eval_run_id is not null
                    then jsonb_build_array(jsonb_build_object('run_id', in_force.eval_run_id))
            end,
            '[]'::jsonb
        ) as decision_eval_runs
    from change_sets
    left join lateral (
        select decisions.*
        from decisions
        where
            decisions.environment = change_sets.environment
            and decisions.decided_at <= change_sets.changed_at
            and not coalesce(decisions.is_synthetic, false)
        order by decisions.decided_at desc, decisions.decision_id desc
        limit 1
    ) as in_force on true

),

with_runs as (

    select
        with_decision.*,
        coalesce(
            (
                select
                    jsonb_agg(
                        jsonb_build_object(
                            'run_id', evidence.entry ->> 'run_id',
                            'samples', (evidence.entry ->> 'samples')::bigint,
                            'status', eval_runs.status,
                            'source_file', eval_runs.source_file,
                            'source_sha256', eval_runs.source_sha256
                        )
                        order by evidence.entry ->> 'run_id'
                    )
                from jsonb_array_elements(with_decision.decision_eval_runs) as evidence (entry)
                left join eval_runs
                    on evidence.entry ->> 'run_id' = eval_runs.run_id
            ),
            '[]'::jsonb
        ) as eval_runs
    from with_decision

),

final as (

    select
        with_runs.change_set_id,
        with_runs.environment,
        with_runs.first_change_id,
        with_runs.changed_at,
        with_runs.changed_by,
        with_runs.changed_via,
        with_runs.reason,
        with_runs.changes,
        with_runs.decision_id,
        with_runs.decision,
        with_runs.decided_at,
        with_runs.canary,
        with_runs.baseline,
        with_runs.decision_rules,
        with_runs.eval_runs,
        last_drill.drill_id,
        last_drill.finished_at as drill_finished_at,
        last_drill.succeeded as drill_succeeded
    from with_runs
    left join lateral (
        select
            drills.drill_id,
            drills.finished_at,
            drills.succeeded
        from drills
        where
            drills.environment = with_runs.environment
            and drills.finished_at <= with_runs.changed_at
        order by drills.finished_at desc
        limit 1
    ) as last_drill on true

)

select * from final
