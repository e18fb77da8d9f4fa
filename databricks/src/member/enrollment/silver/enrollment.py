"""Silver: enrollment segments (member, plan, coverage start), the latest version of each."""

from data_ops.operations.transformers import latest_per_key, valid_rows
from pyspark import pipelines as dp
from pyspark.sql import DataFrame

from data_ops import pipelines

SEGMENT_KEYS = ["member_id", "plan_id", "coverage_start"]


def enrollment(bronze: DataFrame) -> DataFrame:
    latest = latest_per_key(valid_rows(bronze), SEGMENT_KEYS, ["updated_at", "_source_file", "_source_line"])
    return latest.select(
        "member_id", "plan_id", "relationship", "coverage_start", "coverage_end", "premium", "updated_at"
    )


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "silver.enrollment")),
    comment="Enrollment segments per member and plan",
)
@pipelines.expect(spark, "silver.enrollment")
def silver_enrollment() -> DataFrame:
    return enrollment(spark.read.table(str(pipelines.table_name(spark, "bronze.members"))))
