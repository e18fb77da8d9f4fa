"""One-time runs and job runs as store records (`store.py`), and what a restart makes of them.

A run that had not ended when its stand-in stopped cannot go on: its task process stopped with the
stand-in. It comes back TERMINATED and FAILED, saying so, with whatever its task had printed, so a
client polling it ends instead of waiting for ever. A stand-in that stops cleanly cancels its runs
with `STOPPING` as their message. As on a workspace, an ended run is kept for `RETENTION_DAYS`,
then forgotten with its folder when the stand-in starts.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from lakehouse_standins.databricks.job_runs import JobRun, TaskRun
from lakehouse_standins.databricks.runs import Run
from lakehouse_standins.databricks.store import Store
from lakehouse_standins.databricks.task_process import TaskOutcome

STOPPING = "The Databricks stand-in stopped while this run was running: the run was cancelled."
STOPPED = (
    "The Databricks stand-in stopped while this run was {state}: the run did not finish (a task"
    " process stops with its stand-in). Run it again."
)
STOPPED_CODE = "INTERNAL_ERROR"
_ENDED = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
# Live state that means nothing in another process.
_RUN_TRANSIENT = {"fault", "pid", "cancel_requested", "stopping", "cancel_reason"}
_JOB_RUN_TRANSIENT = {"cancel_requested", "cancel_message", "cancel_code", "tasks"}
_LOG_TAIL = 10_000
RETENTION_DAYS = 60  # how long a workspace keeps a run's history


def _now_ms() -> int:
    return int(time.time() * 1000)


def _expired(store: Store, kind: str, run_id: int, end_time: int, folder: Path) -> bool:
    """True (and the run forgotten) when the run ended more than RETENTION_DAYS ago."""
    if not end_time or end_time > _now_ms() - RETENTION_DAYS * 86_400_000:
        return False
    store.remove(kind, run_id)
    shutil.rmtree(folder, ignore_errors=True)
    return True


def _logs(path: Path) -> str:
    return path.read_text(errors="replace")[-_LOG_TAIL:] if path.exists() else ""


def save_run(store: Store, run: Run) -> None:
    body = {f.name: getattr(run, f.name) for f in fields(run) if f.name not in _RUN_TRANSIENT}
    store.put("run", run.run_id, {**body, "folder": str(run.folder)})


def restore_runs(store: Store) -> list[Run]:
    """The saved one-time runs; one that had not ended is ended (and saved) as the module says."""
    runs = []
    for body in store.load("run"):
        run = Run(**{**body, "folder": Path(body["folder"]), "fault": None})
        if _expired(store, "run", run.run_id, run.end_time, run.folder):
            continue
        if run.life_cycle_state not in _ENDED:
            message = STOPPED.format(state=run.life_cycle_state)
            run.life_cycle_state, run.result_state = "TERMINATED", "FAILED"
            run.state_message, run.termination_code = message, STOPPED_CODE
            run.end_time = _now_ms()
            logs = "".join(_logs(log) for log in sorted(run.folder.glob("task-*-stdout.log")))
            run.output = {**run.output, "logs": run.output.get("logs") or logs, "error": message}
            save_run(store, run)
        runs.append(run)
    return runs


def save_job_run(store: Store, run: JobRun) -> None:
    body = {f.name: getattr(run, f.name) for f in fields(run) if f.name not in _JOB_RUN_TRANSIENT}
    tasks = [
        {**{f.name: getattr(t, f.name) for f in fields(t) if f.name != "outcome"}, "outcome": _outcome(t)}
        for t in run.tasks
    ]
    store.put("job_run", run.run_id, {**body, "folder": str(run.folder), "tasks": tasks})


def _outcome(task: TaskRun) -> dict[str, Any] | None:
    return asdict(task.outcome) if task.outcome else None


def restore_job_runs(store: Store) -> list[JobRun]:
    """The saved job runs; one that had not ended is ended (and saved) as the module says."""
    runs = []
    for body in store.load("job_run"):
        tasks = [
            TaskRun(**{**t, "outcome": TaskOutcome(**t["outcome"]) if t["outcome"] else None})
            for t in body["tasks"]
        ]
        run = JobRun(**{**body, "tasks": tasks, "folder": Path(body["folder"])})
        if _expired(store, "job_run", run.run_id, run.end_time, run.folder):
            continue
        if not run.end_time:
            _end_stopped(run)
            save_job_run(store, run)
        runs.append(run)
    return runs


def _end_stopped(run: JobRun) -> None:
    message = STOPPED.format(state=run.life_cycle_state)
    now = _now_ms()
    for task in run.tasks:
        if task.life_cycle_state in _ENDED:
            continue
        if task.life_cycle_state == "RUNNING":
            logs = _logs(run.folder / task.key / "stdout.log")
            task.outcome = TaskOutcome("FAILED", message, STOPPED_CODE, logs, error=message)
            task.result_state, task.state_message, task.end_time = "FAILED", message, now
        else:
            task.result_state = "CANCELED"
            task.state_message = "The Databricks stand-in stopped before this task started."
        task.life_cycle_state, task.code = "TERMINATED", STOPPED_CODE
    run.life_cycle_state, run.result_state = "TERMINATED", "FAILED"
    run.state_message, run.code, run.end_time = message, STOPPED_CODE, now
