"""Customer lifetime-value segments computed from the jaffle shop `customers` mart."""

from collections.abc import Sequence

import dagster as dg
from lakehouse_resources.asset_keys import CUSTOMERS
from lakehouse_resources.automation import eager_condition
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.warehouse import DuckDBWarehouse

CUSTOMER_SEGMENTS = dg.AssetKey(["analytics", "customer_segments"])
# Upper bounds in dollars; the last bucket is open-ended.
LTV_BUCKETS: Sequence[tuple[str, float | None]] = (
    ("none", 0.0),
    ("low", 25.0),
    ("medium", 75.0),
    ("high", None),
)


def bucket_case(column: str, buckets: Sequence[tuple[str, float | None]] = LTV_BUCKETS) -> str:
    """SQL CASE that assigns each value to the first bucket whose upper bound holds it."""
    whens = [f"when {column} <= {bound} then '{name}'" for name, bound in buckets if bound is not None]
    open_ended = next((name for name, bound in buckets if bound is None), "other")
    return "case " + " ".join(whens) + f" else '{open_ended}' end"


@dg.asset(
    key=CUSTOMER_SEGMENTS,
    deps=[CUSTOMERS],
    group_name="analytics",
    kinds={"duckdb", "python"},
    automation_condition=eager_condition(),
    pool=WAREHOUSE_POOL,
    description="Customers per lifetime-value bucket, with counts and totals as metadata.",
)
def customer_segments(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        con.execute("create schema if not exists analytics")
        con.execute(
            f"""
            create or replace table analytics.customer_segments as
            select
                {bucket_case("customer_lifetime_value")} as ltv_bucket,
                count(*) as customers,
                sum(number_of_orders) as orders,
                sum(customer_lifetime_value) as lifetime_value
            from marts.customers
            group by all
            order by min(customer_lifetime_value)
            """
        )
        rows = con.execute(
            "select ltv_bucket, customers, lifetime_value from analytics.customer_segments"
        ).fetchall()
        customers_total = con.execute("select count(*) from marts.customers").fetchone()
    per_bucket = {bucket: int(count) for bucket, count, _ in rows}
    context.log.info(f"segments: {per_bucket}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "customers": int(customers_total[0]) if customers_total else 0,
            "lifetime_value_total": float(sum(value or 0 for *_, value in rows)),
            **{f"customers_{bucket}": count for bucket, count in per_bucket.items()},
        }
    )


@dg.asset_check(
    asset=CUSTOMER_SEGMENTS, blocking=True, description="Every customer is in exactly one bucket."
)
def segments_cover_every_customer(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        row = con.execute(
            "select (select sum(customers) from analytics.customer_segments), (select count(*) from marts.customers)"
        ).fetchone()
    in_buckets, customers = (int(v or 0) for v in row) if row else (0, 0)
    return dg.AssetCheckResult(
        passed=in_buckets == customers,
        metadata={"customers_in_buckets": in_buckets, "customers": customers},
    )
