{#- Custom schemas are used verbatim (staging, marts), as in jaffle_shop, so both projects share one layout. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
