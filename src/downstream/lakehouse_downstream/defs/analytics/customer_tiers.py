"""Customers per tier, read from the table the customer_tiers notebook writes with Spark.

Locally Spark's table reaches DuckDB through the Databricks stand-in's bridge, as a view named by
the local rule (`main_analytics.customer_tiers` for `main.analytics.customer_tiers`).
"""

import dagster as dg
from lakehouse_resources.automation import eager_condition
from lakehouse_resources.platform.catalog import warehouse_name
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.warehouse import DuckDBWarehouse

# The notebook job's key (defs/databricks_notebooks/defs.yaml), and the table it writes.
CUSTOMER_TIERS = dg.AssetKey(["analytics", "analytics_jaffle_shop_gold_customer_tiers"])
CUSTOMER_TIERS_TABLE = "analytics.customer_tiers"
CUSTOMER_TIER_SUMMARY = dg.AssetKey(["analytics", "customer_tier_summary"])


def customer_tier_summary_asset(tiers_table: str) -> dg.AssetsDefinition:
    """`tiers_table`: the full name the notebook got (`LakehouseSettings.table_name`)."""
    source = warehouse_name(tiers_table)

    @dg.asset(
        key=CUSTOMER_TIER_SUMMARY,
        deps=[CUSTOMER_TIERS],
        group_name="analytics",
        kinds={"duckdb", "python"},
        automation_condition=eager_condition(),
        pool=WAREHOUSE_POOL,
        description=f"Customers and lifetime value per tier, from {source} (written by Spark).",
    )
    def customer_tier_summary(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
        with warehouse.connect(read_only=True) as con:
            rows = con.execute(
                f"select tier, count(*), sum(lifetime_value) from {source} group by tier order by tier"
            ).fetchall()
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(rows),
                "source_table": source,
                **{f"customers_{tier}": int(count) for tier, count, _ in rows},
                "lifetime_value_total": float(sum(value or 0 for *_, value in rows)),
            }
        )

    return customer_tier_summary
