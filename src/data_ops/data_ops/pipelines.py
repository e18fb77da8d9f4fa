"""What a declarative pipeline reads from its configuration, which the bundle generator fills.

Keys (one per dataset the pipeline writes or reads; see `databricks/resources/generate.py`):
- `lakehouse.table.<layer>.<asset>`: the full name a deploy target gives a dataset of the
  pipeline's own domain and source; `lakehouse.table.<domain>.<source>.<layer>.<asset>` for another's;
- `lakehouse.expectations.<layer>.<asset>`: the spec's expectations as a JSON list of
  `{name, condition, action}`;
- `lakehouse.same_update_inputs.<layer>.<asset>`: the datasets it reads that the same pipeline
  writes, as a JSON list (absent when none);
- `lakehouse.landing_root`: the Volume folder the domain's raw feeds land in.

A pipeline file therefore never spells a catalog, a schema or a rule of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pyspark.sql import DataFrame

from data_ops import quality
from data_ops.config import TableName
from data_ops.errors import ConfigError

TABLE_KEY = "lakehouse.table."
EXPECTATIONS_KEY = "lakehouse.expectations."
SAME_UPDATE_KEY = "lakehouse.same_update_inputs."
LANDING_ROOT_KEY = "lakehouse.landing_root"


def _conf(spark: Any, key: str) -> str | None:
    value = spark.conf.get(key, None)
    return None if value in (None, "") else str(value)


def _required(spark: Any, key: str) -> str:
    value = _conf(spark, key)
    if value is None:
        raise ConfigError(f"pipeline configuration {key} is not set (the bundle sets it on deploy)")
    return value


def table_name(spark: Any, dataset: str) -> TableName:
    """`dataset` is `<layer>.<asset>` or `<domain>.<source>.<layer>.<asset>`."""
    return TableName.parse(_required(spark, TABLE_KEY + dataset))


def landing_path(spark: Any, feed: str) -> str:
    return f"{_required(spark, LANDING_ROOT_KEY).rstrip('/')}/{feed}"


def expectations(spark: Any, dataset: str) -> list[quality.Expectation]:
    key = EXPECTATIONS_KEY + dataset
    text = _conf(spark, key) or "[]"
    try:
        return [quality.Expectation.model_validate(rule) for rule in json.loads(text)]
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"pipeline configuration {key}: not a list of expectations: {exc}") from None


def same_update_inputs(spark: Any, dataset: str) -> list[str]:
    key = SAME_UPDATE_KEY + dataset
    try:
        inputs = json.loads(_conf(spark, key) or "[]")
    except ValueError as exc:
        raise ConfigError(f"pipeline configuration {key}: not a JSON list: {exc}") from None
    if not isinstance(inputs, list):
        raise ConfigError(f"pipeline configuration {key}: not a JSON list of dataset names")
    return [str(name) for name in inputs]


def expect(spark: Any, dataset: str) -> Callable[[Callable[[], DataFrame]], Callable[[], DataFrame]]:
    """The dataset's configured expectations, applied as `quality.expect` does."""
    return quality.expect(
        expectations(spark, dataset),
        dataset=str(table_name(spark, dataset)),
        same_update_inputs=same_update_inputs(spark, dataset),
    )
