{#-
    One bound of the 95% Wilson score interval for `successes` out of `trials`
    (both SQL expressions); null when trials is 0. side: 'lower' or 'upper'.
    Wilson rather than the normal approximation: it stays inside [0, 1] and is
    honest for small samples and rates near 0 or 1. Clamped to [0, 1]: at a rate of
    exactly 0 or 1 rounding leaves the bound a few ulps outside (-8e-22, 1.0000000000000002).
-#}
{% macro wilson_interval_bound(successes, trials, side) %}
    {%- set z = 1.959963984540054 -%}
    {%- set sign = '-' if side == 'lower' else '+' -%}
    case
        when ({{ trials }}) > 0 then
            least(1.0::double precision, greatest(0.0::double precision, (
                ({{ successes }})::double precision / ({{ trials }})
                + {{ z * z }} / (2.0 * ({{ trials }}))
                {{ sign }} {{ z }} * sqrt(
                    ({{ successes }})::double precision / ({{ trials }})
                    * (1 - ({{ successes }})::double precision / ({{ trials }}))
                    / ({{ trials }})
                    + {{ z * z }} / (4.0 * ({{ trials }}) * ({{ trials }}))
                )
            )
            / (1 + {{ z * z }} / ({{ trials }}))))
    end
{%- endmacro %}
