{#- The representative latency of a bucket, within alpha of every value in it
    (latency_histogram_gamma: the mapping). -#}
{% macro latency_histogram_value(bucket) %}
    case
        when ({{ bucket }}) < 0 then 0.0
        else 2 * power({{ latency_histogram_gamma() }}, ({{ bucket }})::double precision)
            / ({{ latency_histogram_gamma() }} + 1)
    end
{%- endmacro %}
