{#- The representative value of a bucket, within alpha of every value in it
    (latency_histogram_gamma: the mapping; its relative error the latencies' unless
    given). -#}
{% macro latency_histogram_value(bucket, relative_error=none) %}
    case
        when ({{ bucket }}) < 0 then 0.0
        else 2 * power({{ latency_histogram_gamma(relative_error) }}, ({{ bucket }})::double precision)
            / ({{ latency_histogram_gamma(relative_error) }} + 1)
    end
{%- endmacro %}
