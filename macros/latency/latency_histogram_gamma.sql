{#-
    Log-spaced histogram buckets with a relative error bound (alpha: the var
    `latency_histogram_relative_error`, or the one given): bucket b holds
    (gamma^(b-1), gamma^b] with gamma = (1 + alpha) / (1 - alpha), and its
    representative value 2 gamma^b / (gamma + 1) is within alpha of every value in it
    (the DDSketch mapping). Values <= 0 go to bucket -1, represented by 0. The
    latencies use it, and the usage rollups for tokens (var
    `usage_token_histogram_relative_error`).
-#}
{% macro latency_histogram_gamma(relative_error=none) %}
    {%- set alpha = (var('latency_histogram_relative_error') if relative_error is none else relative_error) | float -%}
    {{ return((1 + alpha) / (1 - alpha)) }}
{% endmacro %}
