"""Seed 004's simple low-latency stream join: clicks joined to their impressions within a window.

Both streams carry a watermark so the join's state stays bounded. A StreamingQueryListener logs
one STREAM_MONITOR JSON line per micro-batch and STREAM_MONITOR_ALERT when a trigger is too slow or
the query keeps falling behind (thresholds from the job's spec). Table names, thresholds and the
time limit are job parameters; `--max_seconds=0` runs until the job is cancelled.
"""

from __future__ import annotations

import argparse
import sys
import threading

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener
from stream_monitor import BatchFigures, Thresholds, assess


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--staging_impression_clicks_table", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--rows_per_second", type=int, default=50)
    parser.add_argument("--trigger_interval", default="5 seconds")
    parser.add_argument("--watermark", default="1 minute")
    parser.add_argument("--join_window", default="10 minutes")
    parser.add_argument("--max_trigger_execution_ms", type=int, default=45_000)
    parser.add_argument("--max_backlog_streak", type=int, default=6)
    parser.add_argument("--max_seconds", type=float, default=0)
    return parser.parse_args(argv)


def impressions(rate: DataFrame) -> DataFrame:
    return rate.select(F.col("value").alias("impression_id"), F.col("timestamp").alias("impression_time"))


def clicks(rate: DataFrame) -> DataFrame:
    # Every other impression is clicked: click n answers impression 2n.
    return rate.select(
        (F.col("value") * 2).alias("click_impression_id"), F.col("timestamp").alias("click_time")
    )


def join_streams(impressions: DataFrame, clicks: DataFrame, watermark: str, window: str) -> DataFrame:
    """Each click with the impression it answers, if the click came within `window` after it."""
    joined = impressions.withWatermark("impression_time", watermark).join(
        clicks.withWatermark("click_time", watermark),
        F.expr(
            f"click_impression_id = impression_id AND click_time >= impression_time"
            f" AND click_time <= impression_time + interval {window}"
        ),
    )
    return joined.select(
        "impression_id",
        "impression_time",
        "click_time",
        (F.col("click_time").cast("double") - F.col("impression_time").cast("double")).alias(
            "seconds_to_click"
        ),
    )


class MonitorListener(StreamingQueryListener):
    """Logs every micro-batch's figures; keeps the backlog streak between batches."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.streak = 0
        self.alerts = 0
        self._lock = threading.Lock()

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        import json

        with self._lock:
            result = assess(
                self.streak, BatchFigures.from_progress(json.loads(event.progress.json)), self.thresholds
            )
            self.streak = result.backlog_streak
            self.alerts += int(result.alert)
        for line in result.lines():
            print(line, flush=True)

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    spark = SparkSession.builder.getOrCreate()
    catalog, schema, _ = args.staging_impression_clicks_table.split(".")
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")
    listener = MonitorListener(Thresholds(args.max_trigger_execution_ms, args.max_backlog_streak))
    spark.streams.addListener(listener)
    rate = spark.readStream.format("rate").option("rowsPerSecond", args.rows_per_second)
    slow_rate = spark.readStream.format("rate").option("rowsPerSecond", max(1, args.rows_per_second // 2))
    joined = join_streams(
        impressions(rate.load()), clicks(slow_rate.load()), args.watermark, args.join_window
    )
    query = (
        joined.writeStream.outputMode("append")
        .option("checkpointLocation", args.checkpoint)
        .trigger(processingTime=args.trigger_interval)
        .toTable(args.staging_impression_clicks_table)
    )
    try:
        query.awaitTermination(args.max_seconds or None)
    finally:
        if query.isActive:
            query.stop()
        spark.streams.removeListener(listener)
    print(
        f"stream join stopped after {args.max_seconds or 'no'} second limit; alerts: {listener.alerts}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
