"""raw: ERP postings as they land (JSON lines in the landing Volume), read as a stream."""

from finance.erp.transforms import RAW_POSTING_SCHEMA
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession

from data_ops import pipelines

spark = SparkSession.active()


@dp.table(
    name=str(pipelines.table_name(spark, "raw.postings")),
    comment="ERP postings as landed, all columns as strings",
)
@pipelines.expect(spark, "raw.postings")
def raw_postings() -> DataFrame:
    return spark.readStream.schema(RAW_POSTING_SCHEMA).json(pipelines.landing_path(spark, "postings"))
