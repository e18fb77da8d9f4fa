"""staging: debits, credits and postings per account and booking day."""

from finance.erp.transforms import account_daily
from platform_common.pipelines import expect, table_name
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession


@dp.materialized_view(name=table_name("staging", "account_daily"), comment="Per account and booking day")
@expect("staging", "account_daily")
def daily() -> DataFrame:
    spark = SparkSession.active()
    return account_daily(spark.read.table(table_name("base", "postings")))
