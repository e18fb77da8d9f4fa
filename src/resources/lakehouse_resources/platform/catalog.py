"""The full table name Databricks code gets, and how a local SQL reader finds Spark's tables.

On a workspace a table is `<catalog>.<schema>.<table>`. Open-source Spark has one catalog without
a catalog plugin, its session catalog `spark_catalog`, so the `local` target places a name by its
namespace rule, written once in the bundle's targets overlay (`databricks/targets/local.yml`:
`spark_catalog` / `{catalog}_{schema}` / `{table}`): `main.marts.customers` ->
`spark_catalog.main_marts.customers`. Databricks code never builds either form: it gets the full
name from a widget or parameter, filled in by `lakehouse_resources.platform.parameters`. Locally DuckDB sees a
Spark-written table under its last two parts (`main_marts.customers`), through the stand-in's bridge.
"""

from __future__ import annotations

import re
from pathlib import Path

from lakehouse_resources.platform.naming import NamespaceRule, NamingError, TableName

SESSION_CATALOG = "spark_catalog"
LOCAL_TARGET = "local"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_table_name(name: str) -> TableName:
    """`<catalog>.<schema>.<table>` of plain identifiers, or a NamingError naming what is wrong."""
    parts = name.split(".")
    if len(parts) != 3 or not all(_IDENTIFIER.match(part) for part in parts):
        raise NamingError(
            f"expected a three-part name <catalog>.<schema>.<table> of identifiers, got {name!r}"
        )
    return TableName(*parts)


def local_rule(root: Path) -> NamespaceRule:
    """The `local` target's namespace rule from the repository's bundle (read once per process)."""
    from lakehouse_resources.platform.targets import bundle_for

    return bundle_for(root).target(LOCAL_TARGET).namespace


def warehouse_name(name: str) -> str:
    """How a SQL reader of the warehouse names a table Databricks code got as `name`: locally
    DuckDB sees `spark_catalog.<database>.<table>` as `<database>.<table>` (the stand-in's
    bridge); a workspace's SQL warehouse reads the three-part name itself."""
    parsed = parse_table_name(name)
    if parsed.catalog == SESSION_CATALOG:
        return f"{parsed.schema}.{parsed.table}"
    return name
