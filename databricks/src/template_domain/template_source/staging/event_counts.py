"""staging: events per type."""

from platform_common.pipelines import expect, table_name
from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession
from template_domain.template_source.transforms import event_counts


@dp.materialized_view(name=table_name("staging", "event_counts"), comment="Events per type")
@expect("staging", "event_counts")
def counts() -> DataFrame:
    spark = SparkSession.active()
    return event_counts(spark.read.table(table_name("raw", "events")))
