select
    cast(id as integer) as order_id,
    cast(user_id as integer) as customer_id,
    cast(order_date as date) as order_date,
    status
from {{ source('raw', 'raw_orders') }}
