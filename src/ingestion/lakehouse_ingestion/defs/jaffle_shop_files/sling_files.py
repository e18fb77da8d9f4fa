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

from lakehouse_ingestion.csv_contract import CsvContractError, check_csv, check_shrink
from lakehouse_ingestion.defs.jaffle_shop_files.load_config import LoadConfig
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
    def jaffle_shop_files(
        context: dg.AssetExecutionContext, config: LoadConfig, sling: SlingResource
    ) -> Iterator[Any]:
        ensure_local_tools()
        max_shrink = None if config.allow_shrink else settings.load_max_shrink
        # Every file is checked before Sling starts, so a bad one stops all of them.
        for key in sorted(context.selected_asset_keys):
            name, stream = stream_by_key[key]
            try:
                rows = check_csv(file_path(name), stream["columns"], stream.get("primary_key", ()))
                # The warehouse is remote: its size is what the last materialization recorded.
                check_shrink(
                    file_path(name), stream["object"], rows, _last_row_count(context, key), max_shrink
                )
            except CsvContractError as err:
                raise dg.Failure(
                    description=f"{key.to_user_string()} rejected: {err}",
                    metadata={"file": str(err.path), "line": err.line or 0, "problem": err.problem},
                ) from None
            context.log.info(f"{file_path(name).name}: {rows} rows match the declared columns")
        yield from sling.replicate(context=context).fetch_row_count()

    return jaffle_shop_files


def _last_row_count(context: dg.AssetExecutionContext, key: dg.AssetKey) -> int | None:
    event = context.instance.get_latest_materialization_event(key)
    materialization = event.asset_materialization if event else None
    count = materialization.metadata.get("dagster/row_count") if materialization else None
    return int(count.value) if isinstance(count, dg.IntMetadataValue) and count.value is not None else None
