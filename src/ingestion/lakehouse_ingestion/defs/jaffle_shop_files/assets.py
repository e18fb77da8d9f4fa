"""The jaffle shop CSVs declared in replication_csv.yaml, loaded into the warehouse's `raw` schema.

Locally DuckDB loads them itself (duckdb_load.py says why, with the measured ratios); other
environments replicate with Sling (sling_files.py). No `from __future__ import annotations`: Dagster
reads the run config class from the annotation at definition time.
"""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.tables import table_name

from lakehouse_ingestion.csv_contract import CsvContractError
from lakehouse_ingestion.defs.jaffle_shop_files.duckdb_load import CsvStream, CsvTableLoader
from lakehouse_ingestion.defs.jaffle_shop_files.load_config import LoadConfig
from lakehouse_ingestion.defs.jaffle_shop_files.replication import (
    GROUP,
    file_path,
    load_replication,
    resolve_replication,
)

__all__ = ["build_jaffle_shop_files", "resolve_replication"]


def build_jaffle_shop_files(settings: LakehouseSettings) -> dg.AssetsDefinition:
    if not settings.is_local:
        from lakehouse_ingestion.defs.jaffle_shop_files.sling_files import build_sling_files

        return build_sling_files(settings)
    return build_duckdb_files(settings)


def stream_description(path: Path, config: Mapping[str, Any]) -> str:
    key = ", ".join(config.get("primary_key", [])) or "none"
    return (
        f"{path.name} loaded into {config['object']} (key: {key}). The three jaffle shop files load"
        " together, all or none."
    )


def readable_path(path: Path, root: Path) -> str:
    """The file as a user of any machine reads it: relative to the checkout, else its name alone
    (an absolute path names the machine that loaded the definitions, not the file)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


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
            description=stream_description(path, config),
            metadata={
                "dagster/table_name": table_name(settings, *config["object"].split(".")),
                "source_file": readable_path(path, settings.root),
            },
        )
        for key, (path, config) in streams.items()
    ]

    # Not subsettable: the three files are one extract, and dbt's relationships between them hold
    # only if they change together, so they load in one DuckDB transaction.
    @dg.multi_asset(specs=specs, name="jaffle_shop_files", pool=WAREHOUSE_POOL, can_subset=False)
    def jaffle_shop_files(context: dg.AssetExecutionContext, config: LoadConfig) -> Iterator[Any]:
        by_table = {}
        for key, (path, declared) in sorted(streams.items()):
            schema, table = declared["object"].split(".")
            by_table[table] = (
                key,
                schema,
                CsvStream(path, table, declared["columns"], declared.get("primary_key", ())),
            )
        schemas = {schema for _, schema, _ in by_table.values()}
        if len(schemas) != 1:
            raise dg.Failure(f"The jaffle shop files must land in one schema, not {sorted(schemas)}")
        with duckdb.connect(str(settings.duckdb_path)) as con:
            loader = CsvTableLoader(con, schemas.pop())
            try:
                results = loader.load_all(
                    [stream for _, _, stream in by_table.values()],
                    full_refresh=config.full_refresh,
                    max_shrink=None if config.allow_shrink else settings.load_max_shrink,
                )
            except CsvContractError as err:
                rejected = next((k for k, _, st in by_table.values() if st.path == err.path), None)
                what = rejected.to_user_string() if rejected else err.path.name
                raise dg.Failure(
                    description=f"{what} rejected, no table changed: {err}",
                    metadata={"file": str(err.path), "line": err.line or 0, "problem": err.problem},
                ) from None
        for table, result in results.items():
            key, _, stream = by_table[table]
            how = "appended" if result.incremental else "loaded"
            context.log.info(
                f"{stream.path.name}: {how} {result.rows_loaded} rows; {result.row_count} in {table}"
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
