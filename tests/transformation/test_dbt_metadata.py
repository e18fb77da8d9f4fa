"""What a dbt materialization carries: row counts and column types from the warehouse, descriptions
from the dbt YAML, for dbt Core and dbt Cloud alike."""

from __future__ import annotations

from typing import Any

import dagster as dg
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_resources.asset_keys import CUSTOMERS, JAFFLE_SHOP_RAW, STG_FACT_VIRTUAL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_transformation.defs.jaffle_shop.build import build_jaffle_shop_defs


def column_types(metadata: Any) -> dict[str, tuple[str, str | None]]:
    schema = metadata["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchemaMetadataValue)
    return {column.name: (column.type, column.description) for column in schema.schema.columns}


def materializations(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, Any]:
    return {
        e.materialization.asset_key: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }


def test_dbt_core_models_carry_row_counts_and_column_types(local_settings: LakehouseSettings) -> None:
    ingestion = build_ingestion_defs(local_settings)
    dbt = build_jaffle_shop_defs(local_settings)
    assets = [a for d in (ingestion, dbt) for a in d.assets or [] if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        assets,
        resources={**dict(ingestion.resources or {}), **dict(dbt.resources or {})},
        selection=dg.AssetSelection.assets(*JAFFLE_SHOP_RAW) | dg.AssetSelection.assets(CUSTOMERS).upstream(),
        instance=dg.DagsterInstance.ephemeral(),
    )
    customers = materializations(result)[CUSTOMERS]
    assert customers["dagster/row_count"].value == 100
    types = column_types(customers)
    assert types["customer_id"][0] == "INTEGER"
    assert types["customer_lifetime_value"][0] == "DOUBLE"
    assert types["first_order"][0] == "DATE"


def test_dbt_cloud_models_carry_row_counts_and_column_types(
    dbtc_defs: dg.Definitions, dbtc_instance: dg.DagsterInstance
) -> None:
    assets = next(a for a in dbtc_defs.assets or [] if isinstance(a, dg.AssetsDefinition))
    result = dg.materialize(
        [assets], resources=dict(dbtc_defs.resources or {}), instance=dbtc_instance, raise_on_error=False
    )
    assert result.success
    staging = materializations(result)[STG_FACT_VIRTUAL]
    assert staging["dagster/row_count"].value == 3000
    types = column_types(staging)
    assert types["purchase_id"][0] in {"BIGINT", "INTEGER"}
    assert types["purchased_at"][0].startswith("TIMESTAMP")
