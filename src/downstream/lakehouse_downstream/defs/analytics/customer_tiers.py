"""Customers per tier, read from the table the customer_tiers notebook writes with Spark.

The notebook is a bundle spec (`databricks/specs/jobs/analytics/jaffle_shop/customer_tiers.yml`,
run by the `domains` location); its table's name on the target comes from the one rule
(`BundleTarget.table_name`). Locally Spark's table reaches DuckDB through the Databricks stand-in's
bridge, as a view under its last two parts (`analytics_jaffle_shop.gold_customer_tiers`).
"""

import dagster as dg
from lakehouse_resources.asset_keys import databricks_table_key
from lakehouse_resources.automation import eager_condition
from lakehouse_resources.platform.catalog import warehouse_name
from lakehouse_resources.platform.naming import Layer, ResourceName
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.warehouse import DuckDBWarehouse

# The table the notebook's spec declares, and its asset (the domains location's key rule).
CUSTOMER_TIERS_NAME = ResourceName("analytics", "jaffle_shop", Layer.GOLD, "customer_tiers")
CUSTOMER_TIERS = databricks_table_key(CUSTOMER_TIERS_NAME)
CUSTOMER_TIER_SUMMARY = dg.AssetKey(["analytics", "customer_tier_summary"])


def customer_tier_summary_asset(tiers_table: str) -> dg.AssetsDefinition:
    """`tiers_table`: the full name the notebook got on this target."""
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
