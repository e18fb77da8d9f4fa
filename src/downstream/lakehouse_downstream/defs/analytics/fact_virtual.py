"""Seed 002's fact_virtual_count: how many Kaizen Wars purchases the dbt Cloud staging model holds."""

import dagster as dg
from lakehouse_resources.asset_keys import STG_FACT_VIRTUAL
from lakehouse_resources.automation import eager_condition
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.warehouse import DuckDBWarehouse

FACT_VIRTUAL_COUNT = dg.AssetKey(["analytics", "fact_virtual_count"])


@dg.asset(
    key=FACT_VIRTUAL_COUNT,
    deps=[STG_FACT_VIRTUAL],
    group_name="analytics",
    kinds={"duckdb", "python"},
    automation_condition=eager_condition(),
    pool=WAREHOUSE_POOL,
    description="Purchase events, players and gems spent in the dbt Cloud staging model.",
)
def fact_virtual_count(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as con:
        row = con.execute(
            "select count(*), count(distinct player_id), coalesce(sum(total_gems), 0)"
            " from staging.stg_kaizen_wars__fact_virtual"
        ).fetchone()
    events, players, gems = (int(value) for value in row) if row else (0, 0, 0)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": events, "events": events, "players": players, "gems_spent": gems}
    )
