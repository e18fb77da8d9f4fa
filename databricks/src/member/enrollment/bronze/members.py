"""Bronze: the member enrollment feed (JSON lines in the landing Volume), every line kept.

A line that does not parse or fit its types stays here with its file, line and reason; a field
the feed added or dropped is reported in `_rescued_columns` / `_missing_columns`.
"""

from data_ops.config import Parameters, TableName, from_spark_conf
from data_ops.operations.readers import read_lines
from data_ops.operations.transformers import parse_json_lines
from data_ops.quality import Action, Expectation, expect
from pyspark import pipelines as dp
from pyspark.sql import DataFrame
from pyspark.sql.types import DateType, DoubleType, StringType, StructField, StructType, TimestampType

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

EXPECTATIONS = [
    Expectation(name="well_formed", constraint="_quarantine_reason IS NULL", action=Action.WARN),
    Expectation(
        name="no_schema_drift",
        constraint="_rescued_columns IS NULL AND _missing_columns IS NULL",
        action=Action.WARN,
    ),
]


class BronzeMembers(Parameters):
    landing_path: str
    bronze_members: TableName


def bronze_members(lines: DataFrame) -> DataFrame:
    return parse_json_lines(lines, MEMBER_FEED)


params = from_spark_conf(spark, BronzeMembers)


@dp.materialized_view(name=str(params.bronze_members), comment="Member enrollment feed, one row per line")
@expect(EXPECTATIONS, dataset=str(params.bronze_members))
def members() -> DataFrame:
    return bronze_members(read_lines(spark, params.landing_path, "*.jsonl"))
