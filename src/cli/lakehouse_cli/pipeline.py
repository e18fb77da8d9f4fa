"""Materialize every asset of every code location in dependency order, in one process.

The three locations are separate code servers under `dagster dev`; here their Definitions are
merged so one run can order the whole graph, with the in-process executor (step subprocesses
cost 10-20 s each to start on a small machine).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import dagster as dg
from lakehouse_resources.alerts import root_cause
from lakehouse_resources.settings import LakehouseSettings


def load_all_definitions(settings: LakehouseSettings) -> dg.Definitions:
    from lakehouse_domains.defs.build import build_domains_defs
    from lakehouse_downstream.defs.build import build_downstream_defs
    from lakehouse_ingestion.defs.build import build_ingestion_defs
    from lakehouse_transformation.defs.build import build_transformation_defs

    return dg.Definitions.merge(
        build_ingestion_defs(settings),
        build_transformation_defs(settings),
        build_downstream_defs(settings),
        build_domains_defs(settings),
    )


@dataclass(frozen=True)
class AssetLine:
    asset: str
    step: str
    rows: int | None
    seconds: float


@dataclass(frozen=True)
class PipelineResult:
    success: bool
    lines: list[AssetLine]
    failures: list[str]
    checks_failed: list[str]


def _row_count(metadata: dict[str, dg.MetadataValue]) -> int | None:
    for key in ("dagster/row_count", "rows_loaded"):
        if key in metadata:
            value = metadata[key].value
            return int(value) if isinstance(value, int | float) else None
    return None


def summarize(result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance) -> PipelineResult:
    started: dict[str, float] = {}
    seconds: dict[str, float] = defaultdict(float)
    failures: list[str] = []
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        step = event.step_key or ""
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[step] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            seconds[step] = entry.timestamp - started.get(step, entry.timestamp)
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            error = root_cause(data.error) if data and data.error else "unknown error"
            if data and data.user_failure_data and data.user_failure_data.description:
                error = data.user_failure_data.description
            failures.append(f"{step}: {error}")
    lines = [
        AssetLine(
            asset=event.asset_key.to_user_string(),
            step=event.step_key or "",
            rows=_row_count(dict(event.materialization.metadata)),
            seconds=seconds.get(event.step_key or "", 0.0),
        )
        for event in result.get_asset_materialization_events()
        if event.asset_key
    ]
    checks_failed = [
        f"{check.asset_check_key.asset_key.to_user_string()}:{check.asset_check_key.name}"
        for check in result.get_asset_check_evaluations()
        if not check.passed
    ]
    return PipelineResult(result.success, lines, failures, checks_failed)


def run_pipeline(
    settings: LakehouseSettings, instance: dg.DagsterInstance, selection: dg.AssetSelection | None = None
) -> PipelineResult:
    """Materialize `selection` (everything by default) in one run."""
    defs = load_all_definitions(settings)
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    checks = [c for c in defs.asset_checks or [] if isinstance(c, dg.AssetChecksDefinition)]
    result = dg.materialize(
        [*assets, *checks],
        resources=dict(defs.resources or {}),
        instance=instance,
        raise_on_error=False,
        selection=selection,
        tags={"lakehouse/trigger": "task pipeline"},
    )
    return summarize(result, instance)


def format_summary(summary: PipelineResult) -> str:
    width = max([len(line.asset) for line in summary.lines] + [5])
    out = [f"{'asset':<{width}}  {'rows':>10}  {'step s':>7}  step"]
    for line in sorted(summary.lines, key=lambda item: item.asset):
        rows = "-" if line.rows is None else f"{line.rows:,}"
        out.append(f"{line.asset:<{width}}  {rows:>10}  {line.seconds:>7.2f}  {line.step}")
    out.extend(f"check failed: {name}" for name in summary.checks_failed)
    out.extend(f"FAILED {failure}" for failure in summary.failures)
    out.append(f"{len(summary.lines)} assets materialized; " + ("success" if summary.success else "FAILED"))
    return "\n".join(out)
