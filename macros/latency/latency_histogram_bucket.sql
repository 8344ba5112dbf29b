{#- The histogram bucket of a value (latency_histogram_gamma: the mapping; its relative
    error the latencies' unless given). -#}
{% macro latency_histogram_bucket(value, relative_error=none) %}
    case
        when ({{ value }}) <= 0 then -1
        else ceil(ln(({{ value }})::double precision) / ln({{ latency_histogram_gamma(relative_error) }}))::integer
    end
{%- endmacro %}
