{#-
    Log-spaced latency histogram buckets with a relative error bound (var
    `latency_histogram_relative_error`, alpha): bucket b holds (gamma^(b-1), gamma^b]
    with gamma = (1 + alpha) / (1 - alpha), and its representative value
    2 gamma^b / (gamma + 1) is within alpha of every value in it (the DDSketch mapping).
    Latencies <= 0 go to bucket -1, represented by 0.
-#}
{% macro latency_histogram_gamma() %}
    {%- set alpha = var('latency_histogram_relative_error') | float -%}
    {{ return((1 + alpha) / (1 - alpha)) }}
{% endmacro %}
