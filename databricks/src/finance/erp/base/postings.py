"""base: typed postings; the spec's expectations drop rows without an account or an amount."""

from finance.erp.transforms import base_postings
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession

from data_ops import pipelines

spark = SparkSession.active()


@dp.table(name=str(pipelines.table_name(spark, "base.postings")), comment="Typed ERP postings")
@pipelines.expect(spark, "base.postings")
def postings() -> DataFrame:
    return base_postings(spark.readStream.table(str(pipelines.table_name(spark, "raw.postings"))))
