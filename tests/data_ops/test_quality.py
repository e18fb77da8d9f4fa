"""Expectations: each action's effect on rows and the counts it reports."""

from __future__ import annotations

import pytest
from data_ops.errors import ExpectationFailed
from data_ops.log import parse_events
from data_ops.quality import Action, Expectation, enforce, evaluate, expect

ROWS = [(1, "a", 10.0), (2, None, 5.0), (3, "c", -1.0), (4, "d", None)]
SCHEMA = "id INT, name STRING, amount DOUBLE"


def test_counts_per_rule_with_null_failing(spark) -> None:
    df = spark.createDataFrame(ROWS, SCHEMA)
    rules = [
        Expectation(name="has_name", condition="name IS NOT NULL", action=Action.WARN),
        Expectation(name="positive_amount", condition="amount > 0", action=Action.DROP),
    ]
    report = evaluate(df, rules, "t")
    counts = {r.name: (r.passed_records, r.failed_records) for r in report.expectations}
    assert counts == {"has_name": (3, 1), "positive_amount": (2, 2)}
    assert (report.input_records, report.dropped_records) == (4, 2)
    assert report.data_quality()["expectations"][0] == {
        "name": "has_name",
        "dataset": "t",
        "passed_records": 3,
        "failed_records": 1,
    }


def test_warn_keeps_drop_removes_and_the_counts_are_printed(spark, capsys) -> None:
    df = spark.createDataFrame(ROWS, SCHEMA)
    rules = [
        Expectation(name="has_name", condition="name IS NOT NULL", action=Action.WARN),
        Expectation(name="positive_amount", condition="amount > 0", action=Action.DROP),
    ]
    kept, _ = enforce(df, rules, "silver_x")
    assert sorted(row.id for row in kept.collect()) == [1, 2]
    [event] = parse_events(capsys.readouterr().out, "expectations")
    assert event["dataset"] == "silver_x"
    assert event["dropped_records"] == 2


def test_fail_raises_naming_rule_and_count(spark) -> None:
    df = spark.createDataFrame(ROWS, SCHEMA)
    rules = [Expectation(name="known_amount", condition="amount IS NOT NULL", action=Action.FAIL)]
    with pytest.raises(
        ExpectationFailed, match=r"1 record\(s\) of silver_y violate expectation 'known_amount'"
    ):
        enforce(df, rules, "silver_y")


def test_tolerance_decides_beyond() -> None:
    rule = Expectation(name="r", condition="true", action=Action.DROP, tolerance=0.25)
    from data_ops.quality import ExpectationResult

    def result(failed: int) -> ExpectationResult:
        return ExpectationResult(
            name="r",
            dataset="d",
            action=rule.action,
            condition=rule.condition,
            tolerance=rule.tolerance,
            passed_records=100 - failed,
            failed_records=failed,
        )

    assert not result(25).beyond_tolerance
    assert result(26).beyond_tolerance


def test_expect_counts_when_the_file_loads_and_fails_before_anything_is_written(spark, capsys) -> None:
    df = spark.createDataFrame(ROWS, SCHEMA)
    rules = [
        Expectation(name="has_name", condition="name IS NOT NULL", action=Action.WARN),
        Expectation(name="positive_amount", condition="amount > 0", action=Action.DROP),
    ]
    query = expect(rules, "silver_x")(lambda: df)
    [event] = parse_events(capsys.readouterr().out, "expectations")
    assert event["dropped_records"] == 2
    assert sorted(row.id for row in query().collect()) == [1, 2]
    failing = [Expectation(name="known_amount", condition="amount IS NOT NULL", action=Action.FAIL)]
    with pytest.raises(ExpectationFailed, match="known_amount"):
        expect(failing, "silver_y")(lambda: df)


def test_expect_over_inputs_of_the_same_update_only_drops(spark, capsys) -> None:
    """Seed 004's raw-to-final pipelines: the inputs are rewritten by the same update, so nothing is
    counted (or failed) at load, and the flow still loses the rows a drop rule rejects."""
    df = spark.createDataFrame(ROWS, SCHEMA)
    rules = [
        Expectation(name="known_amount", condition="amount IS NOT NULL", action=Action.FAIL),
        Expectation(name="positive_amount", condition="amount > 0", action=Action.DROP),
    ]
    query = expect(rules, "final_x", same_update_inputs=["staging.x"])(lambda: df)
    assert parse_events(capsys.readouterr().out, "expectations") == []
    assert sorted(row.id for row in query().collect()) == [1, 2]


def test_expect_on_a_stream_only_drops(spark, capsys) -> None:
    stream = spark.readStream.format("rate").load()
    rule = Expectation(name="even", condition="value % 2 = 0", action=Action.DROP)
    query = expect([rule], "raw_x")(lambda: stream)
    assert parse_events(capsys.readouterr().out, "expectations") == []
    assert query().isStreaming
