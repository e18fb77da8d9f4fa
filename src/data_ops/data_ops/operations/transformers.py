"""Transformers: typed parsing of raw lines with quarantine, and small reusable reshapes.

Parsing never loses a line. A line that is not valid JSON or CSV, or whose value does not fit its
column's type, gets a `_quarantine_reason` naming the problem (the file and line are already on
the row); a field the contract does not know lands in `_rescued_columns`, a field it expects but the
line lacks in `_missing_columns`, so a schema change is reported instead of silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from data_ops.operations.readers import SOURCE_FILE, SOURCE_LINE

QUARANTINE_REASON = "_quarantine_reason"
RESCUED_COLUMNS = "_rescued_columns"
MISSING_COLUMNS = "_missing_columns"
RAW = "_raw"

# A comma outside double quotes (RFC 4180 fields without embedded newlines).
_CSV_SPLIT = r',(?=(?:[^"]*"[^"]*")*[^"]*$)'


def _non_empty(array: Column) -> Column:
    return F.when(F.size(array) > 0, array)


def _typed(raw: dict[str, Column], schema: StructType, problems: list[Column]) -> list[Column]:
    """Cast each raw string to its type; a value that does not cast becomes a named problem."""
    columns = []
    for field in schema.fields:
        value = raw[field.name]
        typed = value if isinstance(field.dataType, StringType) else value.try_cast(field.dataType)
        columns.append(typed.alias(field.name))
        problems.append(
            F.when(
                value.isNotNull() & typed.isNull(),
                F.format_string(f"{field.name}: '%s' is not {field.dataType.simpleString()}", value),
            )
        )
    return columns


def _with_quarantine(
    lines: DataFrame, typed: list[Column], problems: list[Column], keys: Column, expected: Sequence[str]
) -> DataFrame:
    expected_array = F.array(*[F.lit(name) for name in expected])
    # concat_ws skips nulls, so no problem at all gives "": compiled code, where a higher-order
    # filter over the problems ran interpreted per row and was the bronze parse's main cost.
    return lines.select(
        *typed,
        F.nullif(F.concat_ws("; ", *problems), F.lit("")).alias(QUARANTINE_REASON),
        _non_empty(F.array_except(keys, expected_array)).alias(RESCUED_COLUMNS),
        _non_empty(F.array_except(expected_array, F.coalesce(keys, expected_array))).alias(MISSING_COLUMNS),
        F.col(SOURCE_FILE),
        F.col(SOURCE_LINE),
        F.col("value").alias(RAW),
    )


def parse_json_lines(lines: DataFrame, schema: StructType) -> DataFrame:
    """JSON lines (`read_lines` output) into `schema`'s columns plus quarantine and drift columns."""
    expected = [field.name for field in schema.fields]
    as_strings = StructType([StructField(name, StringType()) for name in expected])
    parsed = lines.withColumn("_keys", F.json_object_keys("value")).withColumn(
        "_parsed", F.from_json("value", as_strings)
    )
    problems: list[Column] = [F.when(F.col("_keys").isNull(), F.lit("malformed JSON object"))]
    raw = {name: F.when(F.col("_keys").isNotNull(), F.col("_parsed")[name]) for name in expected}
    return _with_quarantine(parsed, _typed(raw, schema, problems), problems, F.col("_keys"), expected)


def parse_csv_lines(lines: DataFrame, schema: StructType) -> DataFrame:
    """CSV lines with a header line per file, mapped to `schema` by header name, not position.

    A file whose header adds or lacks columns still loads what it can; the difference shows in
    `_rescued_columns` / `_missing_columns` on each of its rows.
    """
    expected = [field.name for field in schema.fields]
    headers = lines.where(F.col(SOURCE_LINE) == 1).select(
        F.col(SOURCE_FILE), F.split(F.trim("value"), ",").alias("_header")
    )
    rows = (
        lines.where(F.col(SOURCE_LINE) > 1)
        .join(F.broadcast(headers), SOURCE_FILE)
        # The quote-aware pattern scans the rest of the line at every comma; most lines have no
        # quote, and a one-character split is Java's fast path.
        .withColumn(
            "_fields",
            F.when(F.col("value").contains('"'), F.split("value", _CSV_SPLIT)).otherwise(
                F.split("value", ",")
            ),
        )
    )
    field_count_ok = F.size("_fields") == F.size("_header")
    problems: list[Column] = [
        F.when(
            ~field_count_ok,
            F.format_string("expected %d fields (header), found %d", F.size("_header"), F.size("_fields")),
        )
    ]
    raw = {}
    for name in expected:
        position = F.array_position("_header", F.lit(name)).cast("int")
        value = F.when(field_count_ok & (position > 0), F.element_at("_fields", position))
        value = F.when(
            value.contains('"'), F.regexp_replace(F.regexp_replace(value, r'^"|"$', ""), '""', '"')
        ).otherwise(value)
        raw[name] = F.when(value != "", value)
    return _with_quarantine(rows, _typed(raw, schema, problems), problems, F.col("_header"), expected)


def valid_rows(bronze: DataFrame) -> DataFrame:
    """The rows of a parsed feed that are not quarantined, without the bookkeeping columns."""
    return bronze.where(F.col(QUARANTINE_REASON).isNull()).drop(
        QUARANTINE_REASON, RESCUED_COLUMNS, MISSING_COLUMNS, RAW
    )


def latest_per_key(df: DataFrame, keys: Sequence[str], order_by: Sequence[str]) -> DataFrame:
    """One row per key: the last by `order_by` (later feed lines win ties)."""
    window = Window.partitionBy(*keys).orderBy(*[F.col(name).desc_nulls_last() for name in order_by])
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def month_start(column: str | Column) -> Column:
    return F.trunc(F.col(column) if isinstance(column, str) else column, "month")
