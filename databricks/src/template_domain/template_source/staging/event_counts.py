"""staging: events per type."""

from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession
from template_domain.template_source.transforms import event_counts

from data_ops import pipelines

spark = SparkSession.active()


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "staging.event_counts")), comment="Events per type"
)
@pipelines.expect(spark, "staging.event_counts")
def counts() -> DataFrame:
    return event_counts(spark.read.table(str(pipelines.table_name(spark, "raw.events"))))
