"""Expectations with Databricks' three actions: warn (keep and count), drop, fail.

On a workspace `expect` hands the rules to the platform's own decorators (`dp.expect_all`,
`dp.expect_all_or_drop`, `dp.expect_all_or_fail`), and the pipeline's event log reports the counts.
Open-source declarative pipelines have no expectations, so there `expect` applies the same rules
itself: when the pipeline file is loaded (registration; the inputs are already up to date since each
layer is its own pipeline) it counts passed and failed rows per rule in one aggregation, stops the
update before anything is written when a fail rule is violated and prints the counts as one
`DATA_OPS_EXPECTATIONS` line in the shape of the event log's `data_quality` details; the query
function then filters what drop rules reject. A streaming query, or one over a dataset the same
pipeline writes (seed 004's raw-to-final pipelines), cannot be counted at load: only its drop rules
apply (see `expect`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from data_ops.errors import ExpectationFailed
from data_ops.log import emit, get_logger

log = get_logger(__name__)
EXPECTATIONS_EVENT = "expectations"


class Action(StrEnum):
    WARN = "warn"
    DROP = "drop"
    FAIL = "fail"


class Expectation(BaseModel):
    """A named SQL constraint. A row passes when the constraint is true (NULL fails).

    `tolerance` is the share of rows that may violate it before an orchestrator treats it as
    blocking; the action decides what the pipeline does with the rows.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    condition: str
    action: Action = Action.WARN
    tolerance: float = Field(default=0.0, ge=0.0, le=1.0)

    def holds(self) -> Column:
        return F.coalesce(F.expr(self.condition), F.lit(False))


class ExpectationResult(BaseModel):
    name: str
    dataset: str
    action: Action
    condition: str
    tolerance: float
    passed_records: int
    failed_records: int

    @property
    def violated(self) -> bool:
        return self.failed_records > 0

    @property
    def beyond_tolerance(self) -> bool:
        total = self.passed_records + self.failed_records
        return total > 0 and self.failed_records / total > self.tolerance


class QualityReport(BaseModel):
    dataset: str
    input_records: int
    dropped_records: int
    expectations: list[ExpectationResult]

    @property
    def output_records(self) -> int:
        return self.input_records - self.dropped_records

    def data_quality(self) -> dict[str, Any]:
        """The `details.flow_progress.data_quality` object of a Databricks `flow_progress` event."""
        return {
            "dropped_records": self.dropped_records,
            "expectations": [
                {
                    "name": result.name,
                    "dataset": result.dataset,
                    "passed_records": result.passed_records,
                    "failed_records": result.failed_records,
                }
                for result in self.expectations
            ],
        }

    def failures(self) -> list[ExpectationResult]:
        return [result for result in self.expectations if result.action is Action.FAIL and result.violated]


def evaluate(df: DataFrame, rules: Sequence[Expectation], dataset: str) -> QualityReport:
    """Passed and failed rows per rule, and the rows drop rules remove, in one pass over `df`."""
    drop_rules = [rule for rule in rules if rule.action is Action.DROP]
    kept = F.lit(True)
    for rule in drop_rules:
        kept = kept & rule.holds()
    aggregates = [
        F.count(F.lit(1)).alias("input_records"),
        F.sum(F.when(kept, 0).otherwise(1)).alias("dropped"),
    ]
    aggregates += [
        F.sum(F.when(rule.holds(), 1).otherwise(0)).alias(f"passed_{i}") for i, rule in enumerate(rules)
    ]
    row = df.agg(*aggregates).collect()[0]
    total = int(row["input_records"])
    results = [
        ExpectationResult(
            name=rule.name,
            dataset=dataset,
            action=rule.action,
            condition=rule.condition,
            tolerance=rule.tolerance,
            passed_records=int(row[f"passed_{i}"] or 0),
            failed_records=total - int(row[f"passed_{i}"] or 0),
        )
        for i, rule in enumerate(rules)
    ]
    return QualityReport(
        dataset=dataset, input_records=total, dropped_records=int(row["dropped"] or 0), expectations=results
    )


def drop_violations(df: DataFrame, rules: Sequence[Expectation]) -> DataFrame:
    """`df` without the rows a drop rule rejects (warn and fail rules keep rows)."""
    for rule in rules:
        if rule.action is Action.DROP:
            df = df.where(rule.holds())
    return df


def enforce(df: DataFrame, rules: Sequence[Expectation], dataset: str) -> tuple[DataFrame, QualityReport]:
    """Apply the rules as a pipeline would: count, fail before writing, drop, report.

    Raises `ExpectationFailed` naming the first violated fail rule; otherwise returns the rows to
    write and the report, which is also printed as a `DATA_OPS_EXPECTATIONS` line.
    """
    report = evaluate(df, rules, dataset)
    emit(EXPECTATIONS_EVENT, report.model_dump(mode="json"))
    for result in report.expectations:
        if result.violated and result.action is not Action.FAIL:
            log.warning(
                "%s: %d record(s) violate '%s' (%s)",
                dataset,
                result.failed_records,
                result.name,
                result.action,
            )
    failures = report.failures()
    if failures:
        first = failures[0]
        raise ExpectationFailed(dataset, first.name, first.failed_records, first.condition)
    return drop_violations(df, rules), report


def _platform_decorators() -> Any | None:
    """Databricks' `pyspark.pipelines` carries `expect_all*`; open-source Spark's does not."""
    from pyspark import pipelines as dp

    return dp if hasattr(dp, "expect_all_or_drop") else None


def expect(
    rules: Sequence[Expectation], dataset: str, *, same_update_inputs: Sequence[str] = ()
) -> Callable[[Callable[[], DataFrame]], Callable[[], DataFrame]]:
    """Decorate a pipeline query function with its expectations (place it under `@dp.table`).

    `same_update_inputs` names the datasets the query reads that its own pipeline writes. Off
    Databricks the rules are counted when the file loads, before the update writes anything: a query
    over such inputs, or a streaming one, cannot be counted then. For those only the drop rules are
    applied (as a filter in the flow's plan); warn and fail rules are left to the platform, and the
    rows the flow writes still show how many meet them (the local stand-in reports that count).
    """

    def decorate(query: Callable[[], DataFrame]) -> Callable[[], DataFrame]:
        if not rules:
            return query
        dp = _platform_decorators()
        if dp is not None:
            decorated = query
            for action, decorator in (
                (Action.WARN, dp.expect_all),
                (Action.DROP, dp.expect_all_or_drop),
                (Action.FAIL, dp.expect_all_or_fail),
            ):
                chosen = {rule.name: rule.condition for rule in rules if rule.action is action}
                if chosen:
                    decorated = decorator(chosen)(decorated)
            return decorated

        @functools.wraps(query)
        def enforced() -> DataFrame:
            return drop_violations(query(), rules)

        if not same_update_inputs:
            df = query()
            if not df.isStreaming:
                # Counted now, while the pipeline registers its datasets: open-source SDP refuses any
                # DataFrame analysis inside a query function (ATTEMPT_ANALYSIS_IN_PIPELINE_QUERY_FUNCTION).
                enforce(df, rules, dataset)
                return enforced
        unchecked = [rule.name for rule in rules if rule.action is not Action.DROP]
        if unchecked:
            reason = f"reads {', '.join(same_update_inputs)}" if same_update_inputs else "a stream"
            log.warning(
                "%s: %s not counted while the pipeline loads (%s); only drop rules apply here",
                dataset,
                ", ".join(unchecked),
                reason,
            )
        return enforced

    return decorate
