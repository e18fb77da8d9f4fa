"""Seed 004's stream monitor: one decision per micro-batch, as a pure function of its progress.

A batch is behind when Spark processed rows more slowly than they arrived; `backlog_streak` counts
such batches in a row and a healthy batch resets it. An alert is due when one trigger took longer
than `max_trigger_execution_ms` or the streak reached `max_backlog_streak`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

MONITOR = "STREAM_MONITOR"
ALERT = "STREAM_MONITOR_ALERT"


@dataclass(frozen=True)
class Thresholds:
    max_trigger_execution_ms: int = 45_000
    max_backlog_streak: int = 6


@dataclass(frozen=True)
class BatchFigures:
    batch_id: int
    input_rows_per_second: float
    processed_rows_per_second: float
    trigger_execution_ms: int
    state_rows_total: int
    num_input_rows: int = 0

    @classmethod
    def from_progress(cls, progress: dict[str, Any]) -> BatchFigures:
        """From a StreamingQueryProgress as JSON (`query.lastProgress`, a listener's `progress.json`)."""
        state = progress.get("stateOperators") or []
        return cls(
            batch_id=int(progress.get("batchId", -1)),
            input_rows_per_second=float(progress.get("inputRowsPerSecond") or 0.0),
            processed_rows_per_second=float(progress.get("processedRowsPerSecond") or 0.0),
            trigger_execution_ms=int((progress.get("durationMs") or {}).get("triggerExecution") or 0),
            state_rows_total=sum(int(op.get("numRowsTotal") or 0) for op in state),
            num_input_rows=int(progress.get("numInputRows") or 0),
        )


@dataclass(frozen=True)
class Assessment:
    figures: BatchFigures
    backlog_streak: int
    reasons: tuple[str, ...]

    @property
    def alert(self) -> bool:
        return bool(self.reasons)

    def lines(self) -> list[str]:
        """The log lines for this batch: always STREAM_MONITOR, and STREAM_MONITOR_ALERT when due."""
        record = {**asdict(self.figures), "backlog_streak": self.backlog_streak}
        lines = [f"{MONITOR} {json.dumps(record, sort_keys=True)}"]
        if self.alert:
            alert = {**record, "reasons": list(self.reasons)}
            lines.append(f"{ALERT} {json.dumps(alert, sort_keys=True)}")
        return lines


def is_behind(figures: BatchFigures) -> bool:
    return figures.num_input_rows > 0 and figures.processed_rows_per_second < figures.input_rows_per_second


def assess(previous_streak: int, figures: BatchFigures, thresholds: Thresholds) -> Assessment:
    streak = previous_streak + 1 if is_behind(figures) else 0
    reasons = []
    if figures.trigger_execution_ms > thresholds.max_trigger_execution_ms:
        reasons.append(
            f"trigger_execution_ms {figures.trigger_execution_ms} > {thresholds.max_trigger_execution_ms}"
        )
    if streak >= thresholds.max_backlog_streak:
        reasons.append(f"backlog_streak {streak} >= {thresholds.max_backlog_streak}")
    return Assessment(figures, streak, tuple(reasons))


def parse_lines(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The STREAM_MONITOR records and the STREAM_MONITOR_ALERT records found in a log."""
    batches: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for line in text.splitlines():
        tag, _, payload = line.strip().partition(" ")
        if tag in (MONITOR, ALERT):
            try:
                record = json.loads(payload)
            except json.JSONDecodeError:
                continue
            (batches if tag == MONITOR else alerts).append(record)
    return batches, alerts
