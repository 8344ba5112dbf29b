{#-
    One bound of the Wilson score interval for `successes` out of `trials` (both SQL
    expressions); null when trials is 0. side: 'lower' or 'upper'. z: the critical
    value, a number or an SQL expression (default 1.959963984540054, the two-sided 95%
    interval of the summary view). Wilson rather than the normal approximation: it
    stays inside [0, 1] and is honest for small samples and rates near 0 or 1. Clamped
    to [0, 1]: at a rate of exactly 0 or 1 rounding leaves the bound a few ulps outside
    (-8e-22, 1.0000000000000002). The same formula as stats.wilson_interval.
-#}
{% macro wilson_interval_bound(successes, trials, side, z=1.959963984540054) %}
    {%- set sign = '-' if side == 'lower' else '+' -%}
    {%- set rate = '((' ~ successes ~ ')::double precision / (' ~ trials ~ '))' -%}
    {%- set z2 = '((' ~ z ~ ') * (' ~ z ~ '))' -%}
    case
        {#- at a rate of exactly 0 or 1 that side's bound is exactly 0 or 1 #}
        when ({{ trials }}) > 0 and ({{ successes }}) {{ '<= 0' if side == 'lower' else '>= (' ~ trials ~ ')' }}
            then {{ '0.0' if side == 'lower' else '1.0' }}::double precision
        when ({{ trials }}) > 0 then
            least(1.0::double precision, greatest(0.0::double precision, (
                {{ rate }}
                + {{ z2 }} / (2.0 * ({{ trials }}))
                {{ sign }} ({{ z }}) * sqrt(
                    {{ rate }} * (1 - {{ rate }}) / ({{ trials }})
                    + {{ z2 }} / (4.0 * ({{ trials }}) * ({{ trials }}))
                )
            )
            / (1 + {{ z2 }} / ({{ trials }}))))
    end
{%- endmacro %}
