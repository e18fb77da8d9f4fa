-- A unit price above the dearest catalog item means the load mixed currencies or units.
select purchase_id, unit_price_gems
from {{ ref('stg_kaizen_wars__fact_virtual') }}
where unit_price_gems > {{ var('kaizen_wars_max_unit_price_gems') }}
