"""Bronze: the adjudicated claim lines feed (CSV with a header per file), every line kept.

Columns are matched by header name, so a file that adds or drops a column still loads and says so
in `_rescued_columns` / `_missing_columns`; a line that does not parse keeps its file, line and reason.
"""

from data_ops.operations.readers import read_lines
from data_ops.operations.transformers import parse_csv_lines
from pyspark import pipelines as dp
from pyspark.sql import DataFrame
from pyspark.sql.types import (
    DateType,
    DoubleType,
    IntegerType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from data_ops import pipelines

CLAIM_LINES_FEED = StructType(
    [
        StructField("claim_id", StringType()),
        StructField("line_number", IntegerType()),
        StructField("member_id", StringType()),
        StructField("claim_type", StringType()),
        StructField("service_date", DateType()),
        StructField("provider_npi", StringType()),
        StructField("diagnosis_code", StringType()),
        StructField("procedure_code", StringType()),
        StructField("ndc_code", StringType()),
        StructField("days_supply", IntegerType()),
        StructField("billed_amount", DoubleType()),
        StructField("paid_amount", DoubleType()),
        StructField("status", StringType()),
        StructField("received_at", TimestampType()),
    ]
)


def bronze_claim_lines(lines: DataFrame) -> DataFrame:
    return parse_csv_lines(lines, CLAIM_LINES_FEED)


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "bronze.claim_lines")), comment="Claim lines feed, one row per line"
)
@pipelines.expect(spark, "bronze.claim_lines")
def claim_lines() -> DataFrame:
    return bronze_claim_lines(read_lines(spark, pipelines.landing_path(spark, "claim_lines"), "*.csv"))
