"""raw: ERP postings as they land (JSON lines in the landing Volume), read as a stream."""

from finance.erp.transforms import RAW_POSTING_SCHEMA
from platform_common.pipelines import expect, landing_path, table_name
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession


@dp.table(name=table_name("raw", "postings"), comment="ERP postings as landed, all columns as strings")
@expect("raw", "postings")
def raw_postings() -> DataFrame:
    spark = SparkSession.active()
    return spark.readStream.schema(RAW_POSTING_SCHEMA).json(landing_path("postings"))
