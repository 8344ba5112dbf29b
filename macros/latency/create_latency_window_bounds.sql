{#-
    Creates ai_latency_window_bounds(since, until, hourly_until, daily_until): how the
    latency functions split a window [since, until), given how far the hourly and the
    daily rollups reach. Whole days [days_from, days_to) complete in the daily
    rollup, whole hours [hours_from, hours_to) complete in the hourly rollup around
    them, and the raw edges [since, hours_from) and [hours_to, until), which include
    rows newer than the last refresh. Empty parts collapse to a zero-length range.
    Called by the functions create_latency_functions creates, with their rollups'
    `rolled_up_until`.
-#}
{% macro create_latency_window_bounds(schema) %}
create or replace function {{ schema }}.ai_latency_window_bounds(
    since timestamptz,
    until timestamptz,
    hourly_until timestamptz,
    daily_until timestamptz
)
returns table (
    hours_from timestamptz,
    hours_to timestamptz,
    days_from timestamptz,
    days_to timestamptz
)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $ai_gate$
begin
    -- whole hours inside [since, least(until, hourly_until))
    hours_from := date_trunc('hour', since, 'UTC');
    if hours_from < since then hours_from := hours_from + interval '1 hour'; end if;
    hours_to := date_trunc('hour', least(until, hourly_until), 'UTC');
    if hours_to <= hours_from then
        hours_from := since;
        hours_to := since;
    end if;
    -- whole days inside those hours, complete in the daily rollup
    days_from := date_trunc('day', hours_from, 'UTC');
    if days_from < hours_from then days_from := days_from + interval '24 hours'; end if;
    days_to := least(date_trunc('day', hours_to, 'UTC'), date_trunc('day', daily_until, 'UTC'));
    if days_to <= days_from then
        days_from := hours_from;
        days_to := hours_from;
    end if;
    return next;
end
$ai_gate$;
{% endmacro %}
