"""Unity Catalog table names, and how the `local` target resolves them on open-source Spark.

On a workspace a table is `<catalog>.<schema>.<table>`. Open-source Spark has one catalog without
a catalog plugin, its session catalog `spark_catalog`, so locally the catalog folds into the
schema: `main.marts.customers` -> `spark_catalog.main_marts.customers`. Databricks code never
builds either form: it gets the full name from a widget or parameter, which the orchestrator fills
in with `table_name` for the current target. Locally DuckDB sees a Spark-written table under the
same two last parts (`main_marts.customers`), through the stand-in's bridge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SESSION_CATALOG = "spark_catalog"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TableNameError(ValueError):
    """A table name that is not `<catalog>.<schema>.<table>` of plain identifiers."""


@dataclass(frozen=True)
class TableName:
    catalog: str
    schema: str
    table: str

    def __post_init__(self) -> None:
        for part, value in (("catalog", self.catalog), ("schema", self.schema), ("table", self.table)):
            if not _IDENTIFIER.match(value):
                raise TableNameError(
                    f"Invalid {part} {value!r} in table name {self}: use letters, digits and _"
                )

    @classmethod
    def parse(cls, name: str) -> TableName:
        parts = name.split(".")
        if len(parts) != 3:
            raise TableNameError(f"Expected a three-part name <catalog>.<schema>.<table>, got {name!r}")
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.table}"

    def on_local_spark(self) -> TableName:
        """The local target's rule: `spark_catalog.<catalog>_<schema>.<table>` (idempotent)."""
        if self.catalog == SESSION_CATALOG:
            return self
        return TableName(SESSION_CATALOG, f"{self.catalog}_{self.schema}", self.table)

    @property
    def local_database(self) -> str:
        """The Spark database (and DuckDB schema) that holds this table locally."""
        return self.on_local_spark().schema


def table_name(catalog: str, schema: str, table: str, *, local: bool) -> str:
    """The name Databricks code gets for `<catalog>.<schema>.<table>` on the current target."""
    name = TableName(catalog, schema, table)
    return str(name.on_local_spark() if local else name)


def warehouse_name(name: str) -> str:
    """How a SQL reader of the warehouse names a table Databricks code got as `name`: locally
    DuckDB sees `spark_catalog.<database>.<table>` as `<database>.<table>` (the stand-in's
    bridge); a workspace's SQL warehouse reads the three-part name itself."""
    parsed = TableName.parse(name)
    if parsed.catalog == SESSION_CATALOG:
        return f"{parsed.schema}.{parsed.table}"
    return name
