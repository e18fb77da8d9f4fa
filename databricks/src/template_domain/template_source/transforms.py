"""The starter pipeline's logic: landed events, counted per type."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

EVENT_SCHEMA = "event_id STRING, event_type STRING, occurred_at TIMESTAMP"


def event_counts(events: DataFrame) -> DataFrame:
    return events.groupBy("event_type").agg(
        F.count(F.lit(1)).alias("events"), F.max("occurred_at").alias("last_occurred_at")
    )
