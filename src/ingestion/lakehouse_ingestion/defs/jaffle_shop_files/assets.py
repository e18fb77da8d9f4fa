"""The jaffle shop CSVs declared in replication_csv.yaml, loaded into the warehouse's `raw` schema.

Locally DuckDB loads them itself (duckdb_load.py says why, with the measured ratios); other
environments replicate with Sling (sling_files.py). No `from __future__ import annotations`: Dagster
reads the run config class from the annotation at definition time.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import duckdb
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import LakehouseSettings

from lakehouse_ingestion.csv_contract import CsvContractError
from lakehouse_ingestion.defs.jaffle_shop_files.duckdb_load import CsvTableLoader
from lakehouse_ingestion.defs.jaffle_shop_files.replication import (
    GROUP,
    file_path,
    load_replication,
    resolve_replication,
)

__all__ = ["build_jaffle_shop_files", "resolve_replication"]


class LoadConfig(dg.Config):
    # The YAML's full-refresh mode means "the table equals the file"; inserting only appended
    # rows keeps that true, so a full reload is forced only on request.
    full_refresh: bool = False


def build_jaffle_shop_files(settings: LakehouseSettings) -> dg.AssetsDefinition:
    if not settings.is_local:
        from lakehouse_ingestion.defs.jaffle_shop_files.sling_files import build_sling_files

        return build_sling_files(settings)
    return build_duckdb_files(settings)


def build_duckdb_files(settings: LakehouseSettings) -> dg.AssetsDefinition:
    replication = load_replication(settings.data_dir)
    streams = {
        dg.AssetKey(config["object"].split(".")): (file_path(name), config)
        for name, config in replication["streams"].items()
    }
    specs = [
        dg.AssetSpec(
            key,
            group_name=GROUP,
            kinds={"duckdb", "csv"},
            description=f"{path.name} loaded into {config['object']}",
            metadata={"dagster/table_name": config["object"], "source_file": str(path)},
        )
        for key, (path, config) in streams.items()
    ]

    @dg.multi_asset(specs=specs, name="jaffle_shop_files", pool=WAREHOUSE_POOL, can_subset=True)
    def jaffle_shop_files(context: dg.AssetExecutionContext, config: LoadConfig) -> Iterator[Any]:
        with duckdb.connect(str(settings.duckdb_path)) as con:
            loaders: dict[str, CsvTableLoader] = {}
            for key in sorted(context.selected_asset_keys):
                path, declared = streams[key]
                schema, table = declared["object"].split(".")
                loader = loaders.setdefault(schema, CsvTableLoader(con, schema))
                try:
                    result = loader.load(path, table, declared["columns"], full_refresh=config.full_refresh)
                except CsvContractError as err:
                    raise dg.Failure(
                        description=f"{key.to_user_string()} rejected: {err}",
                        metadata={"file": str(err.path), "line": err.line or 0, "problem": err.problem},
                    ) from None
                how = "appended" if result.incremental else "loaded"
                context.log.info(
                    f"{path.name}: {how} {result.rows_loaded} rows; {result.row_count} in {table}"
                )
                yield dg.MaterializeResult(
                    asset_key=key,
                    metadata={
                        "dagster/row_count": result.row_count,
                        "rows_loaded": result.rows_loaded,
                        "incremental": result.incremental,
                    },
                )

    return jaffle_shop_files
