"""raw: events as they land (JSON lines in the landing Volume), read as a stream."""

from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession
from template_domain.template_source.transforms import EVENT_SCHEMA

from data_ops import pipelines

spark = SparkSession.active()


@dp.table(name=str(pipelines.table_name(spark, "raw.events")), comment="Landed events")
@pipelines.expect(spark, "raw.events")
def events() -> DataFrame:
    return spark.readStream.schema(EVENT_SCHEMA).json(pipelines.landing_path(spark, "events"))
