with source as (
    select * from {{ source('raw', 'fact_virtual') }}
)

select
    cast(event_id as bigint) as purchase_id,
    cast(player_id as varchar) as player_id,
    cast(event_ts as timestamp) as purchased_at,
    cast(cast(event_ts as timestamp) as date) as purchase_date,
    cast(item_id as varchar) as item_id,
    cast(quantity as integer) as quantity,
    cast(price_gems as integer) as unit_price_gems,
    cast(quantity as integer) * cast(price_gems as integer) as total_gems,
    lower(platform) as platform,
    upper(country) as country_code
from source
