"""Sling replication of the jaffle shop CSVs into a remote warehouse (outside `local`).

Locally the files load with DuckDB directly (see duckdb_load.py for why).
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_sling import SlingResource, sling_assets
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.tools import ensure_local_tools

from lakehouse_ingestion.csv_contract import CsvContractError, check_csv
from lakehouse_ingestion.defs.jaffle_shop_files.replication import GROUP, file_path, load_replication
from lakehouse_ingestion.defs.production.database_replication import TargetObjectTranslator


def build_sling_files(settings: LakehouseSettings) -> dg.AssetsDefinition:
    replication = load_replication(settings.data_dir)
    translator = TargetObjectTranslator(replication.get("defaults", {}), GROUP)
    stream_by_key = {
        translator.get_asset_spec({"name": name, "config": config}).key: (name, config)
        for name, config in replication["streams"].items()
    }

    @sling_assets(
        replication_config=replication,
        dagster_sling_translator=translator,
        name="jaffle_shop_files",
        pool=WAREHOUSE_POOL,
    )
    def jaffle_shop_files(context: dg.AssetExecutionContext, sling: SlingResource) -> Iterator[Any]:
        ensure_local_tools()
        for key in sorted(context.selected_asset_keys):
            name, config = stream_by_key[key]
            try:
                rows = check_csv(file_path(name), config["columns"], config.get("primary_key", ()))
            except CsvContractError as err:
                raise dg.Failure(
                    description=f"{key.to_user_string()} rejected: {err}",
                    metadata={"file": str(err.path), "line": err.line or 0, "problem": err.problem},
                ) from None
            context.log.info(f"{file_path(name).name}: {rows} rows match the declared columns")
        yield from sling.replicate(context=context).fetch_row_count()

    return jaffle_shop_files
