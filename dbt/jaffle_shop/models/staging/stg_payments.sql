select
    cast(id as integer) as payment_id,
    cast(order_id as integer) as order_id,
    payment_method,
    -- the source system stores cents
    cast(amount as decimal(18, 2)) / 100 as amount
from {{ source('raw', 'raw_payments') }}
