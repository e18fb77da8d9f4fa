"""staging: debits, credits and postings per account and booking day."""

from finance.erp.transforms import account_daily
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession

from data_ops import pipelines

spark = SparkSession.active()


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "staging.account_daily")), comment="Per account and booking day"
)
@pipelines.expect(spark, "staging.account_daily")
def daily() -> DataFrame:
    return account_daily(spark.read.table(str(pipelines.table_name(spark, "base.postings"))))
