"""Asset keys that cross code locations, defined once.

A producer builds its specs with these keys and a consumer depends on them, so a rename
shows up as a broken test (tests/test_workspace.py) instead of a silently dangling dependency.
"""

from __future__ import annotations

import dagster as dg

from lakehouse_resources.platform.naming import ResourceName

RAW = "raw"

# ingestion -> transformation (dbt sources `raw.*` resolve to these keys)
RAW_CUSTOMERS = dg.AssetKey([RAW, "raw_customers"])
RAW_ORDERS = dg.AssetKey([RAW, "raw_orders"])
RAW_PAYMENTS = dg.AssetKey([RAW, "raw_payments"])
RAW_FACT_VIRTUAL = dg.AssetKey([RAW, "fact_virtual"])
JAFFLE_SHOP_RAW = (RAW_CUSTOMERS, RAW_ORDERS, RAW_PAYMENTS)

# transformation -> downstream
JAFFLE_SHOP = "jaffle_shop"
KAIZEN_WARS = "kaizen_wars"
CUSTOMERS = dg.AssetKey([JAFFLE_SHOP, "customers"])
ORDERS = dg.AssetKey([JAFFLE_SHOP, "orders"])
STG_FACT_VIRTUAL = dg.AssetKey([KAIZEN_WARS, "stg_kaizen_wars__fact_virtual"])


def dbt_model_key(project: str, model: str) -> dg.AssetKey:
    """dbt models are keyed `<project>/<model>` so two dbt projects never collide."""
    return dg.AssetKey([project, model])


def databricks_table_key(name: ResourceName) -> dg.AssetKey:
    """A bundle table (or a job without one) is `<domain>/<source>/<layer>/<asset>`: the lineage
    shows the asset's own name (`paid_by_member`), the catalog and breadcrumbs its domain, source and
    layer; the policy name whole (`claims_adjudication_gold_paid_by_member`) stays the Databricks
    resource's and the table's name."""
    return dg.AssetKey([name.domain, name.source, name.layer.value, name.asset])
