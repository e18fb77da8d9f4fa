"""raw: events as they land (JSON lines in the landing Volume), read as a stream."""

from platform_common.pipelines import expect, landing_path, table_name
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession
from template_domain.template_source.transforms import EVENT_SCHEMA


@dp.table(name=table_name("raw", "events"), comment="Landed events")
@expect("raw", "events")
def events() -> DataFrame:
    spark = SparkSession.active()
    return spark.readStream.schema(EVENT_SCHEMA).json(landing_path("events"))
