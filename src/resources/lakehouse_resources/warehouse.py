"""The local DuckDB warehouse as a Dagster resource."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb


class DuckDBWarehouse(dg.ConfigurableResource):
    """One DuckDB file shared by Sling, dlt, dbt and the Python assets (all on duckdb 1.5.5)."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with duckdb.connect(self.path, read_only=read_only) as con:
            yield con

    def row_count(self, table: str) -> int:
        with self.connect(read_only=True) as con:
            row = con.execute(f"select count(*) from {table}").fetchone()
        return int(row[0]) if row else 0
