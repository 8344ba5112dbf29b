{#-
    One bound of Johnson's skewness-corrected interval for a mean (Johnson 1978,
    "Modified t tests and confidence intervals for asymmetrical populations", JASA
    73:536-544): mean + m3 / (6 s^2 n) -/+ z s / sqrt(n), where s is the sample
    standard deviation and m3 the third central moment. Tokens and costs are
    non-negative and right-skewed (a few long generations), where the plain normal
    interval's coverage is lopsided; the correction moves the interval toward the
    long tail by the first-order (Edgeworth) term. Null below two values, and when the
    values do not vary the bound is the mean. side: 'lower' or 'upper'; z: a number or
    an SQL expression (default the two-sided 95% of the summary view). Restated in
    Python by the tests' oracle (runner/tests/eval_oracle.py: johnson).
-#}
{% macro skewed_mean_interval_bound(mean, sd, third_moment, n, side, z=1.959963984540054) %}
    {%- set sign = '-' if side == 'lower' else '+' -%}
    case
        when ({{ n }}) >= 2 and ({{ sd }}) > 0 then
            ({{ mean }})
            + ({{ third_moment }}) / (6.0 * ({{ sd }}) * ({{ sd }}) * ({{ n }}))
            {{ sign }} ({{ z }}) * ({{ sd }}) / sqrt(({{ n }})::double precision)
        when ({{ n }}) >= 2 then ({{ mean }})
    end
{%- endmacro %}
