"""Seed 004's monitor decision at its boundaries: 45000/45001 ms, streaks 5/6, reset after a healthy batch."""

import json

from template_domain.template_source.staging.stream_monitor import (
    ALERT,
    MONITOR,
    BatchFigures,
    Thresholds,
    assess,
    parse_lines,
)

SEED = Thresholds(max_trigger_execution_ms=45_000, max_backlog_streak=6)


def batch(trigger_ms: int = 1_000, behind: bool = False, batch_id: int = 0) -> BatchFigures:
    return BatchFigures(
        batch_id=batch_id,
        input_rows_per_second=100.0,
        processed_rows_per_second=50.0 if behind else 200.0,
        trigger_execution_ms=trigger_ms,
        state_rows_total=42,
        num_input_rows=500,
    )


def test_trigger_time_alerts_only_above_the_threshold() -> None:
    assert not assess(0, batch(trigger_ms=45_000), SEED).alert
    slow = assess(0, batch(trigger_ms=45_001), SEED)
    assert slow.reasons == ("trigger_execution_ms 45001 > 45000",)


def test_backlog_alerts_from_the_sixth_batch_behind_in_a_row() -> None:
    fifth = assess(4, batch(behind=True), SEED)
    assert (fifth.backlog_streak, fifth.alert) == (5, False)
    sixth = assess(fifth.backlog_streak, batch(behind=True), SEED)
    assert (sixth.backlog_streak, sixth.reasons) == (6, ("backlog_streak 6 >= 6",))


def test_a_healthy_batch_resets_the_streak() -> None:
    healthy = assess(5, batch(behind=False), SEED)
    assert (healthy.backlog_streak, healthy.alert) == (0, False)
    assert assess(healthy.backlog_streak, batch(behind=True), SEED).backlog_streak == 1


def test_an_empty_batch_is_not_behind() -> None:
    idle = BatchFigures(3, 0.0, 0.0, 10, 0, num_input_rows=0)
    assert assess(5, idle, SEED).backlog_streak == 0


def test_figures_come_from_spark_progress_json() -> None:
    progress = {
        "batchId": 7,
        "numInputRows": 120,
        "inputRowsPerSecond": 24.0,
        "processedRowsPerSecond": 30.5,
        "durationMs": {"triggerExecution": 812, "addBatch": 600},
        "stateOperators": [{"numRowsTotal": 10}, {"numRowsTotal": 5}],
    }
    assert BatchFigures.from_progress(progress) == BatchFigures(7, 24.0, 30.5, 812, 15, 120)


def test_log_lines_round_trip() -> None:
    both = assess(0, batch(trigger_ms=50_000, batch_id=3), SEED).lines()
    assert [line.split(" ", 1)[0] for line in both] == [MONITOR, ALERT]
    record = json.loads(both[0].split(" ", 1)[1])
    assert record["batch_id"] == 3
    assert record["backlog_streak"] == 0
    assert {
        "input_rows_per_second",
        "processed_rows_per_second",
        "trigger_execution_ms",
        "state_rows_total",
    } <= set(record)
    batches, alerts = parse_lines("noise\n" + "\n".join(both) + "\nSTREAM_MONITOR not-json\n")
    assert [b["batch_id"] for b in batches] == [3]
    assert alerts[0]["reasons"] == ["trigger_execution_ms 50000 > 45000"]
