"""Row counts for dbt models on the local warehouse.

dagster-dbt's `fetch_row_counts()` opens the dbt adapter inside the step process and keeps its
DuckDB connection, which locks later steps of an in-process run out of the file. Locally we
count with a short-lived connection instead; remote warehouses keep the library's path.
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


def with_row_counts(
    events: Iterable[Any], tables: Mapping[dg.AssetKey, str], duckdb_path: str
) -> Iterator[Any]:
    """Pass check results through as they come; hold model outputs until dbt has exited and
    released the file, then count them over one connection."""
    by_output = {key.to_python_identifier(): table for key, table in tables.items()}
    held: list[dg.Output] = []
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in by_output:
            held.append(event)
        else:
            yield event
    if not held:
        return
    with duckdb.connect(duckdb_path, read_only=True) as con:
        for output in held:
            row = con.execute(f"select count(*) from {by_output[output.output_name]}").fetchone()
            yield output.with_metadata({**output.metadata, "dagster/row_count": int(row[0]) if row else 0})
