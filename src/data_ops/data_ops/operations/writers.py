"""Writers: every table write goes through the table manager, so the format stays its business."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pyspark.sql import DataFrame

from data_ops.config import TableName
from data_ops.tables import Commit, TableManager


def write_table(
    df: DataFrame,
    table: TableName | str,
    *,
    mode: Literal["overwrite", "merge"] = "overwrite",
    keys: Sequence[str] = (),
    spark: Any | None = None,
) -> Commit:
    """Overwrite `table` with `df`, or merge `df` into it on `keys`; returns the new version."""
    manager = TableManager(spark or df.sparkSession)
    if mode == "merge":
        return manager.merge(df, table, keys)
    return manager.overwrite(df, table)
