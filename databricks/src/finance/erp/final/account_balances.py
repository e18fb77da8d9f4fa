"""final: balance and last booking day per account."""

from finance.erp.transforms import account_balances
from platform_common.pipelines import expect, table_name
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession


@dp.materialized_view(name=table_name("final", "account_balances"), comment="Balance per account")
@expect("final", "account_balances")
def balances() -> DataFrame:
    spark = SparkSession.active()
    return account_balances(spark.read.table(table_name("staging", "account_daily")))
