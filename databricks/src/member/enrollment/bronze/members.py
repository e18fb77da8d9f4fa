"""Bronze: the member enrollment feed (JSON lines in the landing Volume), every line kept.

A line that does not parse or fit its types stays here with its file, line and reason; a field
the feed added or dropped is reported in `_rescued_columns` / `_missing_columns`.
"""

from data_ops.operations.readers import read_lines
from data_ops.operations.transformers import parse_json_lines
from pyspark import pipelines as dp
from pyspark.sql import DataFrame
from pyspark.sql.types import DateType, DoubleType, StringType, StructField, StructType, TimestampType

from data_ops import pipelines

MEMBER_FEED = StructType(
    [
        StructField("member_id", StringType()),
        StructField("first_name", StringType()),
        StructField("last_name", StringType()),
        StructField("birth_date", DateType()),
        StructField("gender", StringType()),
        StructField("state", StringType()),
        StructField("zip", StringType()),
        StructField("relationship", StringType()),
        StructField("plan_id", StringType()),
        StructField("coverage_start", DateType()),
        StructField("coverage_end", DateType()),
        StructField("premium", DoubleType()),
        StructField("updated_at", TimestampType()),
    ]
)


def bronze_members(lines: DataFrame) -> DataFrame:
    return parse_json_lines(lines, MEMBER_FEED)


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "bronze.members")),
    comment="Member enrollment feed, one row per line",
)
@pipelines.expect(spark, "bronze.members")
def members() -> DataFrame:
    return bronze_members(read_lines(spark, pipelines.landing_path(spark, "members"), "*.jsonl"))
