{#-
    PL/pgSQL declarations and statements (after `declare`, through `begin` and the
    bounds) that split a window [since, until) for the latency functions: whole days
    [days_from, days_to) complete in the daily rollup, whole hours [hours_from,
    hours_to) complete in the hourly rollup around them, and the raw edges
    [since, hours_from) and [hours_to, until), which include rows newer than the last
    refresh. Empty parts collapse to a zero-length range.
-#}
{% macro latency_window_bounds(hourly, daily) %}
    hourly_until timestamptz;
    daily_until timestamptz;
    hours_from timestamptz;
    hours_to timestamptz;
    days_from timestamptz;
    days_to timestamptz;
begin
    select coalesce(max(h.rolled_up_until), '-infinity') into hourly_until
    from {{ hourly }} as h;
    select coalesce(max(d.rolled_up_until), '-infinity') into daily_until
    from {{ daily }} as d;
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
{%- endmacro %}
