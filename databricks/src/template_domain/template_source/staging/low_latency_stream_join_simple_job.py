"""Seed 004's simple low-latency stream join: clicks joined to their impressions within a window.

Both streams carry a watermark so the join's state stays bounded. A StreamingQueryListener logs
one STREAM_MONITOR JSON line per micro-batch and STREAM_MONITOR_ALERT when a trigger is too slow or
the query keeps falling behind (thresholds from the job's spec). Table names, thresholds and the
bounds are job parameters; `--max_seconds=0 --max_batches=0` (production) runs until cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

from data_ops.pipes import open_pipes
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener
from stream_monitor import Assessment, BatchFigures, Thresholds, assess


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The job's own parameters; Dagster Pipes' `--dagster-pipes-*` arguments are left to Pipes."""
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
    parser.add_argument("--max_batches", type=int, default=0)
    return parser.parse_known_args(argv)[0]


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
    """Logs every micro-batch's figures; keeps the backlog streak (and a summary) between batches."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.streak = 0
        self.assessments: list[Assessment] = []
        self.terminated = threading.Event()
        self._lock = threading.Lock()

    def onQueryStarted(self, event: Any) -> None:
        pass

    def onQueryProgress(self, event: Any) -> None:
        with self._lock:
            figures = BatchFigures.from_progress(json.loads(event.progress.json))
            result = assess(self.streak, figures, self.thresholds)
            self.streak = result.backlog_streak
            self.assessments.append(result)
        for line in result.lines():
            print(line, flush=True)

    def onQueryIdle(self, event: Any) -> None:
        pass

    def onQueryTerminated(self, event: Any) -> None:
        self.terminated.set()

    def summary(self) -> dict[str, float]:
        """Figures a user can plot over runs (Dagster metadata)."""
        with self._lock:
            seen = [a.figures for a in self.assessments]
            return {
                "micro_batches": len(seen),
                "alerts": sum(1 for a in self.assessments if a.alert),
                "max_trigger_execution_ms": max((f.trigger_execution_ms for f in seen), default=0),
                "max_backlog_streak": max((a.backlog_streak for a in self.assessments), default=0),
                "max_state_rows_total": max((f.state_rows_total for f in seen), default=0),
                "last_input_rows_per_second": seen[-1].input_rows_per_second if seen else 0.0,
                "last_processed_rows_per_second": seen[-1].processed_rows_per_second if seen else 0.0,
            }

    def alert_reasons(self) -> list[str]:
        with self._lock:
            return sorted({reason for a in self.assessments for reason in a.reasons})


def run_bounded(query: Any, listener: MonitorListener, max_seconds: float, max_batches: int) -> None:
    """Until the query ends, `max_seconds` pass or `max_batches` micro-batches were reported (0 = no
    bound): production runs unbounded, a local run stops after a few batches, however slow the machine."""
    if not max_batches:
        query.awaitTermination(max_seconds or None)
        return
    deadline = time.monotonic() + max_seconds if max_seconds else None
    while query.isActive and len(listener.assessments) < max_batches:
        if deadline is not None and time.monotonic() > deadline:
            return
        time.sleep(0.5)


def stop_listening(spark: SparkSession, listener: MonitorListener, wait_seconds: float = 120) -> None:
    """Remove the listener once the query's last events reached it.

    Events arrive asynchronously (over Spark Connect, on a thread of the client): waiting for the
    termination event makes the summary complete. Removing a Connect listener while an event is
    being delivered deadlocks in pyspark 4.3 (`remove` joins the delivering thread under the lock
    that thread needs), so an undelivered termination ends the session instead.
    """
    if listener.terminated.wait(wait_seconds):
        spark.streams.removeListener(listener)
    else:
        print("stream join: the listener got no termination event; ending the session", flush=True)
        spark.stop()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    with open_pipes(argv) as pipes:
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
            run_bounded(query, listener, args.max_seconds, args.max_batches)
        finally:
            if query.isActive:
                query.stop()
        rows = spark.table(args.staging_impression_clicks_table).count() if pipes is not None else None
        stop_listening(spark, listener)
        summary = listener.summary()
        reasons = listener.alert_reasons()
        print(f"stream join stopped: {json.dumps(summary, sort_keys=True)}", flush=True)
        if pipes is not None:
            pipes.report_asset_materialization(
                metadata={"dagster/row_count": rows, "table": args.staging_impression_clicks_table, **summary}
            )
            pipes.report_asset_check(
                check_name="stream_healthy",
                passed=not reasons,
                severity="ERROR",
                metadata={"alerts": summary["alerts"], "reasons": "; ".join(reasons) or "none"},
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
