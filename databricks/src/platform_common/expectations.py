"""Databricks' three expectation actions as plain DataFrame operations (for open-source Spark).

warn keeps every row; drop removes rows that do not satisfy the condition; fail makes the query
fail at execution on the first such row. A condition that evaluates to NULL counts as not met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

Action = Literal["warn", "drop", "fail"]


@dataclass(frozen=True)
class Rule:
    name: str
    condition: str
    action: Action = "warn"


def rules_by_action(rules: list[Rule]) -> dict[Action, list[Rule]]:
    grouped: dict[Action, list[Rule]] = {}
    for rule in rules:
        grouped.setdefault(rule.action, []).append(rule)
    return grouped


def met(rule: Rule) -> Column:
    return F.coalesce(F.expr(rule.condition), F.lit(False))


def apply_expectations(df: DataFrame, rules: list[Rule]) -> DataFrame:
    for rule in rules:
        if rule.action == "drop":
            df = df.filter(met(rule))
        elif rule.action == "fail":
            message = f"expectation {rule.name} failed: {rule.condition}"
            df = df.filter(F.when(met(rule), F.lit(True)).otherwise(F.raise_error(F.lit(message))))
    return df
