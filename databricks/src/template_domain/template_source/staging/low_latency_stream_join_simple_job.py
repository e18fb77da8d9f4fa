"""Seed 004's simple low-latency stream join: clicks joined to their impressions within a window.

Both streams carry a watermark so the join's state stays bounded. A StreamingQueryListener logs
one STREAM_MONITOR JSON line per micro-batch and STREAM_MONITOR_ALERT when a trigger is too slow or
the query keeps falling behind (thresholds from the job's spec). Table names, thresholds and the
bounds are job parameters.

Two ways to run:
- unbounded (production, `--max_batches=0`): Spark's `rate` source, event time is the wall clock;
  runs until cancelled (or `--max_seconds`), keeps its checkpoint and appends to the table. After a
  stop it resumes where its checkpoint left off and catches up on the time it was stopped.
- bounded (`--max_batches=N`, the local target and tests): a known input, the first N micro-batches
  of the `rate-micro-batch` source (`--bounded_rows_per_batch` impressions and half as many clicks
  per batch, event time `--bounded_start` plus one batch's worth of seconds at `--rows_per_second`
  per batch), whatever the wall clock. A bounded run is a full refresh: it clears its checkpoint,
  replaces the table and writes those N batches, so every rerun gives the same table and the same
  monitor figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from datetime import datetime
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
    parser.add_argument("--bounded_rows_per_batch", type=int, default=250)
    parser.add_argument("--bounded_start", default="2026-01-01T00:00:00+00:00")
    parser.add_argument("--trigger_interval", default="5 seconds")
    parser.add_argument("--watermark", default="1 minute")
    parser.add_argument("--join_window", default="10 minutes")
    parser.add_argument("--max_trigger_execution_ms", type=int, default=45_000)
    parser.add_argument("--max_backlog_streak", type=int, default=6)
    parser.add_argument("--max_seconds", type=float, default=0)
    parser.add_argument("--max_batches", type=int, default=0)
    return parser.parse_known_args(argv)[0]


def live_sources(spark: SparkSession, rows_per_second: int) -> tuple[DataFrame, DataFrame]:
    """Impressions and clicks (at half the rate) as they happen: `rate` stamps each row with the time
    it is generated and, after a restart, generates the rows of the time it was stopped."""

    def rate(rows: int) -> DataFrame:
        return spark.readStream.format("rate").option("rowsPerSecond", rows).load()

    return rate(rows_per_second), rate(max(1, rows_per_second // 2))


def bounded_sources(
    spark: SparkSession, rows_per_batch: int, rows_per_second: int, start: datetime, batches: int
) -> tuple[DataFrame, DataFrame]:
    """The first `batches` micro-batches of impressions and clicks, a known function of the batch.

    `rate-micro-batch` gives batch b the values `b*rowsPerBatch` .. `(b+1)*rowsPerBatch - 1`, all
    stamped `startTimestamp + b*advanceMillisPerBatch` (ms), however fast or late the batches run.
    Values past the bound are filtered out, so a batch the job could not stop before adds nothing."""
    start_ms = int(start.timestamp() * 1000)
    advance_ms = max(1, rows_per_batch * 1000 // max(1, rows_per_second))

    def source(rows: int) -> DataFrame:
        generated = (
            spark.readStream.format("rate-micro-batch")
            .option("rowsPerBatch", rows)
            .option("startTimestamp", start_ms)
            .option("advanceMillisPerBatch", advance_ms)
            .load()
        )
        return generated.where(F.col("value") < rows * batches)

    return source(rows_per_batch), source(max(1, rows_per_batch // 2))


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

    def __init__(self, thresholds: Thresholds, batches: int = 0) -> None:
        self.thresholds = thresholds
        # A bounded run reports its input's `batches` micro-batches, not one it could not stop before.
        self.batches = batches
        self.streak = 0
        self.assessments: list[Assessment] = []
        self.terminated = threading.Event()
        self._lock = threading.Lock()

    def onQueryStarted(self, event: Any) -> None:
        pass

    def onQueryProgress(self, event: Any) -> None:
        with self._lock:
            figures = BatchFigures.from_progress(json.loads(event.progress.json))
            if self.batches and figures.batch_id >= self.batches:
                return
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
                "input_rows": sum(f.num_input_rows for f in seen),
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


def refresh(spark: SparkSession, table: str, checkpoint: str) -> None:
    """A bounded run starts over: no checkpoint (its offsets and join state) and no table.

    The checkpoint is a Unity Catalog Volume path, which the driver reaches as a file path."""
    shutil.rmtree(checkpoint, ignore_errors=True)
    spark.sql(f"DROP TABLE IF EXISTS {table}")


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
    table = args.staging_impression_clicks_table
    bounded = args.max_batches > 0
    with open_pipes(argv) as pipes:
        spark = SparkSession.builder.getOrCreate()
        catalog, schema, _ = table.split(".")
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")
        if bounded:
            refresh(spark, table, args.checkpoint)
            shown, clicked = bounded_sources(
                spark,
                args.bounded_rows_per_batch,
                args.rows_per_second,
                datetime.fromisoformat(args.bounded_start),
                args.max_batches,
            )
        else:
            shown, clicked = live_sources(spark, args.rows_per_second)
        listener = MonitorListener(
            Thresholds(args.max_trigger_execution_ms, args.max_backlog_streak), batches=args.max_batches
        )
        spark.streams.addListener(listener)
        joined = join_streams(impressions(shown), clicks(clicked), args.watermark, args.join_window)
        query = (
            joined.writeStream.outputMode("append")
            .option("checkpointLocation", args.checkpoint)
            .trigger(processingTime=args.trigger_interval)
            .toTable(table)
        )
        try:
            run_bounded(query, listener, args.max_seconds, args.max_batches)
            failure = None if query.isActive else query.exception()
        finally:
            if query.isActive:
                query.stop()
        stop_listening(spark, listener)
        if failure is not None:
            raise failure
        summary = listener.summary()
        if bounded and summary["micro_batches"] < args.max_batches:
            # Part of the known input would make a table no other run gives: fail, say how far it got.
            raise RuntimeError(
                f"stream join: {summary['micro_batches']:.0f} of the bounded run's {args.max_batches}"
                f" micro-batches ran within --max_seconds={args.max_seconds:g}"
            )
        rows = spark.table(table).count() if pipes is not None else None
        reasons = listener.alert_reasons()
        print(f"stream join stopped: {json.dumps(summary, sort_keys=True)}", flush=True)
        if pipes is not None:
            pipes.report_asset_materialization(
                metadata={
                    "dagster/row_count": rows,
                    "table": table,
                    "stream_run": (
                        f"bounded: {args.max_batches} micro-batches of a fixed input, the table replaced"
                        if bounded
                        else "unbounded: appended"
                    ),
                    **summary,
                }
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
