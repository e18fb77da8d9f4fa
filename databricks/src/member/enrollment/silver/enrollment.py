"""Silver: enrollment segments (member, plan, coverage start), the latest version of each."""

from data_ops.config import Parameters, TableName, from_spark_conf
from data_ops.operations.transformers import latest_per_key, valid_rows
from data_ops.quality import Action, Expectation, expect
from pyspark import pipelines as dp
from pyspark.sql import DataFrame

SEGMENT_KEYS = ["member_id", "plan_id", "coverage_start"]
EXPECTATIONS = [
    Expectation(name="plan_id_present", constraint="plan_id IS NOT NULL", action=Action.FAIL),
    Expectation(
        name="coverage_dates_ordered",
        constraint="coverage_end IS NULL OR coverage_end >= coverage_start",
        action=Action.DROP,
    ),
    Expectation(name="premium_not_negative", constraint="premium >= 0", action=Action.WARN),
]


class Enrollment(Parameters):
    bronze_members: TableName
    silver_enrollment: TableName


def enrollment(bronze: DataFrame) -> DataFrame:
    latest = latest_per_key(valid_rows(bronze), SEGMENT_KEYS, ["updated_at", "_source_file", "_source_line"])
    return latest.select(
        "member_id", "plan_id", "relationship", "coverage_start", "coverage_end", "premium", "updated_at"
    )


params = from_spark_conf(spark, Enrollment)


@dp.materialized_view(name=str(params.silver_enrollment), comment="Enrollment segments per member and plan")
@expect(EXPECTATIONS, dataset=str(params.silver_enrollment))
def silver_enrollment() -> DataFrame:
    return enrollment(spark.read.table(str(params.bronze_members)))
