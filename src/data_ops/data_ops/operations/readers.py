"""Readers: raw feed files with their file name and line number, and tables by full name."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from data_ops.config import TableName

SOURCE_FILE = "_source_file"
SOURCE_LINE = "_source_line"


def read_lines(spark: Any, path: str, pattern: str = "*") -> DataFrame:
    """Every line of the files under `path` as (`_source_file`, `_source_line`, `value`), lines from 1.

    Each file is read whole so a line keeps its number (Spark's line reader drops it); feeds
    therefore arrive in files of a bounded size (the generator writes at most 100k rows a file).
    Blank lines, the last newline included, are skipped but still counted.
    """
    files = (
        spark.read.format("text")
        .option("wholetext", "true")
        .option("pathGlobFilter", pattern)
        .option("recursiveFileLookup", "true")
        .load(path)
        .select(F.col("_metadata.file_path").alias(SOURCE_FILE), F.col("value"))
    )
    lines = files.select(SOURCE_FILE, F.posexplode(F.split("value", "\r?\n")).alias("position", "value"))
    return lines.select(SOURCE_FILE, (F.col("position") + 1).alias(SOURCE_LINE), F.col("value")).where(
        F.length("value") > 0
    )


def read_table(spark: Any, name: TableName | str) -> DataFrame:
    return spark.read.table(str(name))
