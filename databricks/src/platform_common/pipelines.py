"""Names and expectations a pipeline reads from its configuration, which the bundle generator fills.

A pipeline's source never spells a catalog or schema: `table_name("base", "postings")` answers the
full name the deploy target gives that dataset (`finance.erp.base_postings` in prod,
`spark_catalog.finance_erp.base_postings` locally).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession

from platform_common.expectations import Rule, apply_expectations, rules_by_action


def _conf(key: str) -> str:
    spark = SparkSession.active()
    value = spark.conf.get(key, None)
    if value is None:
        raise KeyError(f"pipeline configuration {key} is not set: is this file deployed by the bundle?")
    return value


def table_name(layer: str, name: str) -> str:
    return _conf(f"lakehouse.table.{layer}.{name}")


def landing_path(feed: str) -> str:
    return f"{_conf('lakehouse.landing_root')}/{feed}"


def expectations(layer: str, name: str) -> list[Rule]:
    spark = SparkSession.active()
    return [
        Rule(**rule)
        for rule in json.loads(spark.conf.get(f"lakehouse.expectations.{layer}.{name}", "[]") or "[]")
    ]


def expect(layer: str, name: str) -> Callable[[Callable[[], DataFrame]], Callable[[], DataFrame]]:
    """Apply the spec's expectations of one dataset to its query function.

    On Databricks the runtime's own decorators run them (and report them in the event log); open-source
    declarative pipelines have none, so elsewhere the rules are applied to the DataFrame.
    """
    rules = expectations(layer, name)

    def decorate(query: Callable[[], DataFrame]) -> Callable[[], DataFrame]:
        native: dict[str, Any] = {
            "warn": getattr(dp, "expect_all", None),
            "drop": getattr(dp, "expect_all_or_drop", None),
            "fail": getattr(dp, "expect_all_or_fail", None),
        }
        if all(native.values()):
            for action, group in rules_by_action(rules).items():
                query = native[action]({rule.name: rule.condition for rule in group})(query)
            return query

        @functools.wraps(query)
        def applied() -> DataFrame:
            return apply_expectations(query(), rules)

        return applied

    return decorate
