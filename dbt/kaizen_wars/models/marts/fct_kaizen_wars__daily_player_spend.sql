select
    purchase_date || '-' || player_id as daily_player_spend_id,
    purchase_date,
    player_id,
    count(*) as purchases,
    sum(quantity) as items,
    sum(total_gems) as gems_spent
from {{ ref('stg_kaizen_wars__fact_virtual') }}
group by purchase_date, player_id
