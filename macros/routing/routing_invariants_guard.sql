{#-
    Post-hook on ai_provider_config_changes: the routing invariants, enforced by the
    database for every writer (the CLI and SQL by hand alike). A constraint trigger,
    deferred to commit, reads the effective configuration (the view ai_provider_configs)
    of each environment a transaction changed and rejects the transaction if, after it:
    - the provider/environment is not in ai_provider_config_defaults;
    - the environment has not exactly one enabled default provider;
    - no enabled provider of the environment has a weight above 0.
    Also the audit text: reason and changed_by are at most 500 characters without
    control characters. Deferred, so a change set of several rows (moving the default
    touches two providers) is judged as a whole. `ai-gate flags set` checks the same
    first, for a clearer message (routing.invariant_violations).
-#}
{% macro routing_invariants_guard() %}
{%- set configs = this.incorporate(path={'identifier': 'ai_provider_configs'}).include(database=false) -%}
{%- set function_name = this.schema ~ '.' ~ this.identifier ~ '_check_invariants' -%}
create or replace function {{ function_name }}()
returns trigger
language plpgsql
security definer
set search_path = ''
as $ai_gate$
declare
    problems text;
begin
    if length(new.reason) > 500 or new.reason ~ '[[:cntrl:]]'
        or length(new.changed_by) > 500 or new.changed_by ~ '[[:cntrl:]]'
        or btrim(new.changed_by) = '' then
        raise exception 'routing change refused: reason and changed_by must be 1-500 characters without control characters'
            using errcode = 'check_violation';
    end if;
    if not exists (
        select from {{ configs }} as configs
        where configs.environment = new.environment and configs.provider = new.provider
    ) then
        raise exception 'routing change refused: unknown provider % in environment %',
            quote_literal(new.provider), quote_literal(new.environment)
            using errcode = 'check_violation';
    end if;
    select string_agg(problem, '; ') into problems
    from (
        select format(
            '%s: exactly one enabled provider must be the default (found: %s)',
            configs.environment,
            coalesce(
                string_agg(configs.provider, ', ' order by configs.provider)
                    filter (where configs.enabled and configs.is_default),
                'none'
            )
        ) as problem
        from {{ configs }} as configs
        where configs.environment = new.environment
        group by configs.environment
        having count(*) filter (where configs.enabled and configs.is_default) <> 1
        union all
        select format('%s: at least one enabled provider needs a weight > 0', configs.environment)
        from {{ configs }} as configs
        where configs.environment = new.environment
        group by configs.environment
        having not bool_or(configs.enabled and configs.weight > 0)
    ) as violations;
    if problems is not null then
        raise exception 'routing change refused: it would break a routing invariant: %', problems
            using errcode = 'check_violation',
            hint = 'ai-gate flags set checks a change before writing it (docs/routing-flags.md).';
    end if;
    return null;
end
$ai_gate$;

revoke all on function {{ function_name }}() from public;

{#- Constraint triggers have no OR REPLACE. #}
drop trigger if exists {{ this.identifier }}_invariants on {{ this }};

create constraint trigger {{ this.identifier }}_invariants
after insert on {{ this }}
deferrable initially deferred
for each row execute function {{ function_name }}();
{% endmacro %}
