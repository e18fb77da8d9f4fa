"""Expectations: each action's effect on rows and the counts it reports."""

from __future__ import annotations

import pytest
from data_ops.errors import ExpectationFailed
from data_ops.log import parse_events
from data_ops.quality import Action, Expectation, enforce, evaluate

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
