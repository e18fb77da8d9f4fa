"""base: typed postings; the spec's expectations drop rows without an account or an amount."""

from finance.erp.transforms import base_postings
from platform_common.pipelines import expect, table_name
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession


@dp.table(name=table_name("base", "postings"), comment="Typed ERP postings")
@expect("base", "postings")
def postings() -> DataFrame:
    spark = SparkSession.active()
    return base_postings(spark.readStream.table(table_name("raw", "postings")))
