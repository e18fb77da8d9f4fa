{% set payment_methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] %}

with payments_per_order as (
    select
        order_id,
        {% for method in payment_methods -%}
        sum(case when payment_method = '{{ method }}' then amount else 0 end) as {{ method }}_amount,
        {% endfor -%}
        sum(amount) as total_amount
    from {{ ref('stg_payments') }}
    group by order_id
)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.status,
    {% for method in payment_methods -%}
    coalesce(payments_per_order.{{ method }}_amount, 0) as {{ method }}_amount,
    {% endfor -%}
    coalesce(payments_per_order.total_amount, 0) as amount
from {{ ref('stg_orders') }} as orders
left join payments_per_order using (order_id)
