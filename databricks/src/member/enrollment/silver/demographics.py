"""Silver: one row per member with the latest demographics the feed sent."""

from data_ops.operations.transformers import latest_per_key, valid_rows
from pyspark import pipelines as dp
from pyspark.sql import DataFrame

from data_ops import pipelines


def demographics(bronze: DataFrame) -> DataFrame:
    latest = latest_per_key(valid_rows(bronze), ["member_id"], ["updated_at", "_source_file", "_source_line"])
    return latest.select(
        "member_id", "first_name", "last_name", "birth_date", "gender", "state", "zip", "updated_at"
    )


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "silver.demographics")), comment="Members' latest demographics"
)
@pipelines.expect(spark, "silver.demographics")
def silver_demographics() -> DataFrame:
    return demographics(spark.read.table(str(pipelines.table_name(spark, "bronze.members"))))
