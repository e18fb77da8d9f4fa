"""Silver: one row per member with the latest demographics the feed sent."""

from data_ops.config import Parameters, TableName, from_spark_conf
from data_ops.operations.transformers import latest_per_key, valid_rows
from data_ops.quality import Action, Expectation, expect
from pyspark import pipelines as dp
from pyspark.sql import DataFrame

EXPECTATIONS = [
    Expectation(name="member_id_format", constraint="member_id RLIKE '^M[0-9]{7}$'", action=Action.FAIL),
    Expectation(name="birth_date_in_past", constraint="birth_date <= current_date()", action=Action.DROP),
    Expectation(name="known_gender", constraint="gender IN ('F', 'M', 'U')", action=Action.WARN),
]


class Demographics(Parameters):
    bronze_members: TableName
    silver_demographics: TableName


def demographics(bronze: DataFrame) -> DataFrame:
    latest = latest_per_key(valid_rows(bronze), ["member_id"], ["updated_at", "_source_file", "_source_line"])
    return latest.select(
        "member_id", "first_name", "last_name", "birth_date", "gender", "state", "zip", "updated_at"
    )


params = from_spark_conf(spark, Demographics)


@dp.materialized_view(name=str(params.silver_demographics), comment="Members' latest demographics")
@expect(EXPECTATIONS, dataset=str(params.silver_demographics))
def silver_demographics() -> DataFrame:
    return demographics(spark.read.table(str(params.bronze_members)))
