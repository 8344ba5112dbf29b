-- The effective routing configuration the product reads: the seeded defaults
-- overlaid by the latest audited change per provider and environment. A view, so a
-- change recorded by `ai-gate flags set` takes effect without a dbt build.

with

defaults as (

    select * from {{ ref('ai_provider_config_defaults') }}

),

changes as (

    select * from {{ ref('ai_provider_config_changes') }}

),

latest_changes as (

    select distinct on (provider, environment)
        provider,
        environment,
        change_id,
        enabled,
        is_default,
        weight,
        timeout_ms,
        max_retries,
        reason,
        changed_by,
        changed_at
    from changes
    order by provider asc, environment asc, change_id desc

),

effective as (

    select
        defaults.provider,
        defaults.environment,
        defaults.model,
        defaults.prompt_template_version,
        defaults.metadata,
        latest_changes.change_id as last_change_id,
        latest_changes.changed_at as last_changed_at,
        latest_changes.changed_by as last_changed_by,
        latest_changes.reason as last_change_reason,
        coalesce(latest_changes.enabled, defaults.enabled) as enabled,
        coalesce(latest_changes.is_default, defaults.is_default) as is_default,
        coalesce(latest_changes.weight, defaults.weight) as weight,
        coalesce(latest_changes.timeout_ms, defaults.timeout_ms) as timeout_ms,
        coalesce(latest_changes.max_retries, defaults.max_retries) as max_retries
    from defaults
    left join latest_changes
        on
            defaults.provider = latest_changes.provider
            and defaults.environment = latest_changes.environment

)

select * from effective
