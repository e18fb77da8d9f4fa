"""CSV lines to typed columns: quoted fields, doubled quotes and a wrong field count, line by line."""

from __future__ import annotations

from data_ops.operations.readers import SOURCE_FILE, SOURCE_LINE
from data_ops.operations.transformers import QUARANTINE_REASON, parse_csv_lines
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

SCHEMA = StructType(
    [StructField("id", StringType()), StructField("note", StringType()), StructField("amount", DoubleType())]
)
LINES = [
    "amount,id,note",  # the header names the order, not the schema
    "1.5,a,plain",
    '2.5,b,"with, a comma"',
    '3.5,c,"say ""hi"""',
    "4.5,d,",
    "x,e,not a number",
    "6.5,f,one,too many",
]


def test_quoted_fields_and_bad_lines_parse_as_a_csv_reader_would(spark) -> None:
    lines = spark.createDataFrame(
        [("feed.csv", number, line) for number, line in enumerate(LINES, start=1)],
        f"{SOURCE_FILE} string, {SOURCE_LINE} int, value string",
    )

    rows = parse_csv_lines(lines, SCHEMA).orderBy(SOURCE_LINE).collect()

    assert [(r.id, r.note, r.amount, r[QUARANTINE_REASON]) for r in rows] == [
        ("a", "plain", 1.5, None),
        ("b", "with, a comma", 2.5, None),
        ("c", 'say "hi"', 3.5, None),
        ("d", None, 4.5, None),
        ("e", "not a number", None, "amount: 'x' is not double"),
        (None, None, None, "expected 3 fields (header), found 4"),
    ]
