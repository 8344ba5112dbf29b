{#- The histogram bucket of a latency (latency_histogram_gamma: the mapping). -#}
{% macro latency_histogram_bucket(latency) %}
    case
        when ({{ latency }}) <= 0 then -1
        else ceil(ln(({{ latency }})::double precision) / ln({{ latency_histogram_gamma() }}))::integer
    end
{%- endmacro %}
