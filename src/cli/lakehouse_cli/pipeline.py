"""Materialize every asset of every code location in dependency order, in one process.

The four locations are separate code servers under `dagster dev`; here their Definitions are
merged so one job can order the whole graph, with the in-process executor (step subprocesses
cost 10-20 s each to start on a small machine). Parts of the graph that share no asset run as runs
of their own, `pipeline_concurrent_runs` at once (`run_parts`), each on a worker thread.

The main thread watches the runs: Dagster checks for an interrupt only between steps, so a run
waiting for a pool slot would ignore Ctrl-C and SIGTERM. The watcher also frees the slots of runs
whose process was killed (`stale_runs`)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import dagster as dg
from dagster._core.utils import make_new_run_id
from lakehouse_resources.settings import LakehouseSettings

from lakehouse_cli.log_config import runs_can_share_this_process
from lakehouse_cli.pool_wait import sleep_between_claim_checks
from lakehouse_cli.progress import StepProgress, error_text, event_line
from lakehouse_cli.run_parts import RunPart, run_parts
from lakehouse_cli.stale_runs import reclaim_dead_runs

PIPELINE_JOB = "__lakehouse_pipeline"
_WATCH_SECONDS = 2.0
# The event log goes to the log file (and the console with --verbose), not Dagster's console logger.
_QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def load_all_definitions(settings: LakehouseSettings) -> dg.Definitions:
    """Every location's Definitions, after the deploy step loading relies on: the dbt Cloud
    workspace state (a short-lived stand-in locally when none runs; a no-op once it exists)."""
    from lakehouse_domains.defs.build import build_domains_defs
    from lakehouse_downstream.defs.build import build_downstream_defs
    from lakehouse_ingestion.defs.build import build_ingestion_defs
    from lakehouse_transformation.defs.build import build_transformation_defs

    from lakehouse_cli.dbt_cloud import prepare_state

    prepare_state(settings)
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
    blocking_checks_failed: list[str] = field(default_factory=list)
    # Failed checks of WARN severity (e.g. expectations catching the sample feeds' planted bad rows):
    # reported, never blocking; each with its figures when it has them.
    check_warnings: list[str] = field(default_factory=list)
    run_id: str = ""
    log_path: Path | None = None


class PipelineStopped(Exception):
    """The run was stopped by a signal; it is marked canceled and its pool slots are freed."""

    def __init__(self, signum: int, run_id: str) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}: run {run_id} canceled")
        self.signum = signum


def _row_count(metadata: dict[str, dg.MetadataValue]) -> int | None:
    for key in ("dagster/row_count", "rows_loaded"):
        if key in metadata:
            value = metadata[key].value
            return int(value) if isinstance(value, int | float) else None
    return None


def summarize(result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance) -> PipelineResult:
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
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
            failures.append(f"{step}: {error_text(event)}")
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
    evaluations = [check for check in result.get_asset_check_evaluations() if not check.passed]
    warnings = [check for check in evaluations if check.severity == dg.AssetCheckSeverity.WARN]
    checks_failed = [_check_name(check) for check in evaluations if check not in warnings]
    blocking = [_check_name(check) for check in evaluations if check.blocking]
    success = result.success and not blocking
    return PipelineResult(
        success,
        lines,
        failures,
        checks_failed,
        blocking,
        run_id=result.run_id,
        check_warnings=[_check_name(check) + _figures(check) for check in warnings],
    )


def _figures(check: dg.AssetCheckEvaluation) -> str:
    metadata = {key: value.value for key, value in check.metadata.items()}
    failed, passed = metadata.get("failed_records"), metadata.get("passed_records")
    if isinstance(failed, int) and isinstance(passed, int):
        return f" ({failed:,} of {failed + passed:,} rows)"
    return ""


def _check_name(check: dg.AssetCheckEvaluation) -> str:
    return f"{check.asset_check_key.asset_key.to_user_string()}:{check.asset_check_key.name}"


def pipeline_job(defs: dg.Definitions, selection: dg.AssetSelection | None) -> dg.JobDefinition:
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    checks = [c for c in defs.asset_checks or [] if isinstance(c, dg.AssetChecksDefinition)]
    job_defs = dg.Definitions(
        jobs=[dg.define_asset_job(PIPELINE_JOB, selection=selection)],
        assets=[*assets, *checks],
        resources=dict(defs.resources or {}),
    )
    return job_defs.resolve_job_def(PIPELINE_JOB)


# Assets that run on a stand-in locally: a selection without them starts no stand-in (nor its Spark).
STANDIN_KINDS = frozenset({"databricks", "dbtcloud"})


def needs_standins(job: dg.JobDefinition) -> bool:
    layer = job.asset_layer
    kinds = {kind for key in layer.selected_asset_keys for kind in layer.asset_graph.get(key).kinds}
    return bool(kinds & STANDIN_KINDS)


def run_pipeline(
    settings: LakehouseSettings,
    instance: dg.DagsterInstance,
    selection: dg.AssetSelection | None = None,
    *,
    say: Callable[[str], None] = lambda _line: None,
    log: TextIO | None = None,
    verbose: bool = False,
) -> PipelineResult:
    """Materialize `selection` (everything by default) in one run; `say` gets one line per step
    as it starts and ends, `log` (and `say` when verbose) every event of the run."""
    job = pipeline_job(load_all_definitions(settings), selection)
    return execute_pipeline(
        job, instance, say=say, log=log, verbose=verbose, concurrent_runs=settings.pipeline_concurrent_runs
    )


def execute_pipeline(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    *,
    say: Callable[[str], None] = lambda _line: None,
    log: TextIO | None = None,
    verbose: bool = False,
    concurrent_runs: int = 1,
) -> PipelineResult:
    """Run `job` in process, watched (see the module's docstring): as one run, or with
    `concurrent_runs` > 1 as one run per independent part of it (`run_parts`), that many at once."""
    sleep_between_claim_checks()
    concurrent = concurrent_runs > 1 and runs_can_share_this_process(instance)
    parts = run_parts(job) if concurrent else [RunPart(job, None, 0)]
    run_ids = [make_new_run_id() for _ in parts]
    total = sum(part.steps or 0 for part in parts) if len(parts) > 1 else None
    progress = StepProgress(say, total=total)
    write_lock = threading.Lock()

    def on_event(entry: dg.EventLogEntry) -> None:
        line = event_line(entry)
        with write_lock:
            if log is not None:
                log.write(line + "\n")
                log.flush()
            if verbose:
                say(line)
        progress.handle(entry)

    for run_id in run_ids:
        instance.add_event_listener(run_id, on_event)
    for line in reclaim_dead_runs(instance):
        say(line)
    outcome: dict[str, dg.ExecuteInProcessResult | BaseException] = {}
    waiting = list(zip(parts, run_ids, strict=True))
    started: list[str] = []
    queue_lock, stopping = threading.Lock(), threading.Event()

    def execute() -> None:
        while True:
            with queue_lock:
                if stopping.is_set() or not waiting:
                    return
                part, run_id = waiting.pop(0)
                started.append(run_id)
            try:
                outcome[run_id] = part.job.execute_in_process(
                    run_config=_QUIET_CONSOLE,
                    instance=instance,
                    run_id=run_id,
                    raise_on_error=False,
                    tags={"lakehouse/trigger": "task pipeline"},
                )
            except BaseException as exc:
                outcome[run_id] = exc

    workers = [
        threading.Thread(target=execute, name=f"lakehouse-pipeline-run-{n}", daemon=True)
        for n in range(min(concurrent_runs, len(parts)))
    ]
    with _stop_on_signals() as stop:
        for worker in workers:
            worker.start()
        while any(worker.is_alive() for worker in workers):
            for worker in workers:
                worker.join(_WATCH_SECONDS / len(workers))
            if stop.signum is not None:
                stopping.set()  # no further part starts
                with queue_lock:
                    for run_id in started:
                        _cancel(instance, run_id, stop.signum)
                    raise PipelineStopped(stop.signum, ", ".join(started))
            for line in reclaim_dead_runs(instance):
                say(line)
    results = [outcome.get(run_id) for run_id in run_ids]
    for result in results:
        if not isinstance(result, dg.ExecuteInProcessResult):
            raise RuntimeError("the pipeline run ended without a result") from result
    return merged(
        [summarize(result, instance) for result in results if isinstance(result, dg.ExecuteInProcessResult)]
    )


def merged(summaries: list[PipelineResult]) -> PipelineResult:
    """One summary of the runs of one pipeline."""
    if len(summaries) == 1:
        return summaries[0]
    return PipelineResult(
        success=all(summary.success for summary in summaries),
        lines=[line for summary in summaries for line in summary.lines],
        failures=[failure for summary in summaries for failure in summary.failures],
        checks_failed=[name for summary in summaries for name in summary.checks_failed],
        blocking_checks_failed=[name for summary in summaries for name in summary.blocking_checks_failed],
        check_warnings=[name for summary in summaries for name in summary.check_warnings],
        run_id=", ".join(summary.run_id for summary in summaries),
    )


@dataclass
class _Stop:
    signum: int | None = None


@contextmanager
def _stop_on_signals() -> Iterator[_Stop]:
    """Note SIGINT/SIGTERM instead of dying, so the run can be marked canceled first."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def note(signum: int, _frame: object) -> None:
        stop.signum = signum

    for signum in previous:
        signal.signal(signum, note)
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _cancel(instance: dg.DagsterInstance, run_id: str, signum: int) -> None:
    run = instance.get_run_by_id(run_id)
    if run is not None and not run.is_finished:
        instance.report_run_canceled(run, f"Stopped by {signal.Signals(signum).name}.")
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def format_summary(summary: PipelineResult) -> str:
    width = max([len(line.asset) for line in summary.lines] + [5])
    out = [f"{'asset':<{width}}  {'rows':>10}  {'step s':>7}  step"]
    for line in sorted(summary.lines, key=lambda item: item.asset):
        rows = "-" if line.rows is None else f"{line.rows:,}"
        out.append(f"{line.asset:<{width}}  {rows:>10}  {line.seconds:>7.2f}  {line.step}")
    if summary.check_warnings:
        out.append(f"{len(summary.check_warnings)} warnings (checks of WARN severity; they do not block):")
        out.extend(f"  warning: {name}" for name in summary.check_warnings)
    blocking = set(summary.blocking_checks_failed)
    out.extend(
        f"check failed{' (blocking)' if name in blocking else ''}: {name}" for name in summary.checks_failed
    )
    out.extend(f"FAILED {failure}" for failure in summary.failures)
    warned = f" with {len(summary.check_warnings)} warnings" if summary.check_warnings else ""
    outcome = ("success" if summary.success else "FAILED") + warned
    out.append(f"{len(summary.lines)} assets materialized; {outcome}")
    return "\n".join(out)
