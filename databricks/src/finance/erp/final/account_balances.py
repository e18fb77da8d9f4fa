"""final: balance and last booking day per account."""

from finance.erp.transforms import account_balances
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession

from data_ops import pipelines

spark = SparkSession.active()


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "final.account_balances")), comment="Balance per account"
)
@pipelines.expect(spark, "final.account_balances")
def balances() -> DataFrame:
    return account_balances(spark.read.table(str(pipelines.table_name(spark, "staging.account_daily"))))
