"""Silver: one row per member, plan and month of coverage, the basis of eligibility counts.

It reads bronze, not silver enrollment, so the three silver tables of one update never read
each other (same segment rule: the latest version of each member, plan and coverage start).
"""

from data_ops.operations.transformers import latest_per_key, month_start, valid_rows
from pyspark import pipelines as dp
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from data_ops import pipelines

SEGMENT_KEYS = ["member_id", "plan_id", "coverage_start"]


def eligibility(bronze: DataFrame) -> DataFrame:
    segments = latest_per_key(
        valid_rows(bronze), SEGMENT_KEYS, ["updated_at", "_source_file", "_source_line"]
    )
    last_month = month_start(F.greatest("coverage_start", F.coalesce("coverage_end", "coverage_start")))
    months = segments.select(
        "member_id",
        "plan_id",
        "relationship",
        "coverage_start",
        "coverage_end",
        F.explode(F.sequence(month_start("coverage_start"), last_month, F.expr("INTERVAL 1 MONTH"))).alias(
            "eligibility_month"
        ),
        "birth_date",
    )
    age = F.floor(F.months_between("eligibility_month", "birth_date") / 12).cast("int")
    return months.withColumn("age_years", age).drop("birth_date")


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "silver.eligibility")), comment="Member months of coverage per plan"
)
@pipelines.expect(spark, "silver.eligibility")
def silver_eligibility() -> DataFrame:
    return eligibility(spark.read.table(str(pipelines.table_name(spark, "bronze.members"))))
