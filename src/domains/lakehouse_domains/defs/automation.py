"""Who runs a spec's tables: Dagster's automation conditions, or Databricks for continuous work.

Dagster is the one scheduler of the bundle's work (docs/operations.md): the bundle deploys no
schedule, and every table with an upstream asset carries a condition from
`lakehouse_resources.automation`. The exception is a continuous job or pipeline on a target that
runs continuous work (prod): Databricks runs it, so its tables carry the `manual` condition and
Dagster never starts an update or a run beside the continuous one.
"""

from __future__ import annotations

import dagster as dg
from lakehouse_resources.automation import eager_condition, manual_condition
from lakehouse_resources.platform.specs import LoadedSpec
from lakehouse_resources.platform.targets import BundleTarget


def runs_continuous_work(target: BundleTarget) -> bool:
    """Whether continuous jobs and pipelines run on `target` once deployed: not in `mode:
    development`, nor with `presets.trigger_pause_status: PAUSED` (both pause them)."""
    return target.mode != "development" and target.presets.get("trigger_pause_status") != "PAUSED"


def automation_condition(spec: LoadedSpec, target: BundleTarget) -> dg.AutomationCondition:
    if getattr(spec.spec, "continuous", False) and runs_continuous_work(target):
        return manual_condition()
    return eager_condition()
