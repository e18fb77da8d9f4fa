{#- Custom schemas are used verbatim (staging, marts) so every target lays tables out the same way. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
