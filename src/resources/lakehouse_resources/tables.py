"""The one name a warehouse table carries in Dagster (`dagster/table_name`), whoever writes or reads it.

dbt names a relation `<database>.<schema>.<table>`: locally DuckDB's database is the warehouse
file's stem (`.lakehouse/warehouse.duckdb` -> `warehouse`), elsewhere the Unity Catalog catalog.
Ingestion, dlt and Python assets use the same form, so the catalog shows one name per table.
"""

from __future__ import annotations

from lakehouse_resources.settings import LakehouseSettings


def warehouse_database(settings: LakehouseSettings) -> str:
    return settings.duckdb_path.stem if settings.is_local else settings.catalog


def table_name(settings: LakehouseSettings, schema: str, table: str) -> str:
    return f"{warehouse_database(settings)}.{schema}.{table}"
