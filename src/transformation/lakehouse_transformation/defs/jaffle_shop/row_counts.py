"""Row counts and column types for dbt models on the local warehouse.

dagster-dbt's `fetch_row_counts()` and `fetch_column_metadata()` open the dbt adapter inside the
step process and keep its DuckDB connection, which locks later steps of an in-process run out of
the file. Locally we read both (the count, and the types the catalog would list) over one
short-lived connection instead; remote warehouses keep the library's path. The column
descriptions come from the spec (the dbt YAML), the types from the warehouse.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg
import duckdb


def table_names(assets: dg.AssetsDefinition) -> dict[dg.AssetKey, str]:
    """`schema.table` per asset, from the `dagster/table_name` dagster-dbt puts on each spec."""
    names = {}
    for key, spec in assets.specs_by_key.items():
        full = spec.metadata.get("dagster/table_name")
        if isinstance(full, str):
            names[key] = ".".join(full.split(".")[-2:])
    return names


def _column_schema(
    con: duckdb.DuckDBPyConnection, table: str, described: dg.TableSchema | None
) -> dg.TableSchema:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    descriptions = {column.name: column.description for column in (described.columns if described else [])}
    return dg.TableSchema(
        columns=[dg.TableColumn(column, kind, description=descriptions.get(column)) for column, kind in rows]
    )


def with_row_counts(
    events: Iterable[Any],
    tables: Mapping[dg.AssetKey, str],
    duckdb_path: str,
    schemas: Mapping[dg.AssetKey, dg.TableSchema | None] | None = None,
) -> Iterator[Any]:
    """Pass check results through as they come; hold model outputs until dbt has exited and
    released the file, then count them and read their columns over one connection."""
    by_output = {key.to_python_identifier(): (key, table) for key, table in tables.items()}
    held: list[dg.Output] = []
    failure: dg.Failure | None = None
    try:
        for event in events:
            if isinstance(event, dg.Output) and event.output_name in by_output:
                held.append(event)
            else:
                yield event
    except dg.Failure as exc:
        # A failed build still materialized the models that ran before the failure: yield them first.
        failure = exc
    yield from _counted(held, by_output, duckdb_path, schemas)
    if failure is not None:
        raise failure


def _counted(
    held: list[dg.Output],
    by_output: Mapping[str, tuple[dg.AssetKey, str]],
    duckdb_path: str,
    schemas: Mapping[dg.AssetKey, dg.TableSchema | None] | None,
) -> Iterator[dg.Output]:
    if not held:
        return
    with duckdb.connect(duckdb_path, read_only=True) as con:
        for output in held:
            key, table = by_output[output.output_name]
            row = con.execute(f"select count(*) from {table}").fetchone()
            columns = _column_schema(con, table, (schemas or {}).get(key))
            yield output.with_metadata(
                {
                    **output.metadata,
                    "dagster/row_count": int(row[0]) if row else 0,
                    "dagster/column_schema": columns,
                }
            )


def column_schemas(assets: dg.AssetsDefinition) -> dict[dg.AssetKey, dg.TableSchema | None]:
    """The column schema dagster-dbt put on each spec (names and YAML descriptions)."""
    found: dict[dg.AssetKey, dg.TableSchema | None] = {}
    for key, spec in assets.specs_by_key.items():
        schema = spec.metadata.get("dagster/column_schema")
        found[key] = schema if isinstance(schema, dg.TableSchema) else None
    return found
