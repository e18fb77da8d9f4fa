"""Run one task of a deployed job in a child process, as runs.py does for one-time runs.

The child is `_child.py` (Databricks-like `dbutils` and `/Volumes` paths). Parameters that name a
`/Volumes/...` path are given the local folder behind it, because on the stand-in the Spark JVM
reads files directly, where `_child.py`'s mapping of `open()` does not reach.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse_resources.processes import start_child, stop_group

from lakehouse_standins.databricks.spark_runtime import (
    SparkServer,
    SparkUnavailable,
    release_or_say,
    task_remote,
)
from lakehouse_standins.databricks.tasks import LaunchError, TaskLauncher

CHILD = Path(__file__).with_name("_child.py")
# No site-packages, no PYTHON* variables, no script folder: the child imports what its spec's
# sys_path holds (the runtime and the task's declared libraries; see environments.py).
ISOLATED = ("-I", "-S", "-u")
_VOLUMES = "/Volumes/"


@dataclass
class TaskOutcome:
    result_state: str  # SUCCESS, FAILED, CANCELED, TIMEDOUT
    message: str = ""
    code: str = "SUCCESS"
    logs: str = ""
    error: str | None = None
    error_trace: str | None = None
    result: str | None = None

    def output(self) -> dict[str, Any]:
        body: dict[str, Any] = {"logs": self.logs[-100_000:], "logs_truncated": len(self.logs) > 100_000}
        if self.error is not None:
            body.update(error=self.error, error_trace=self.error_trace or "")
        if self.result is not None:
            body["notebook_output"] = {"result": self.result, "truncated": False}
        return body


def local_volume_paths(value: Any, volumes_root: Path) -> Any:
    """`/Volumes/c/s/v/x` (alone or after `--name=`) -> `<volumes_root>/c/s/v/x`, recursively."""
    if isinstance(value, str):
        head, sep, tail = value.partition("=")
        if sep and tail.startswith(_VOLUMES) and head.startswith("--"):
            return f"{head}={volumes_root / tail.removeprefix(_VOLUMES)}"
        return str(volumes_root / value.removeprefix(_VOLUMES)) if value.startswith(_VOLUMES) else value
    if isinstance(value, list):
        return [local_volume_paths(item, volumes_root) for item in value]
    if isinstance(value, dict):
        return {key: local_volume_paths(item, volumes_root) for key, item in value.items()}
    return value


def run_task(
    launcher: TaskLauncher,
    spark: SparkServer,
    task: dict[str, Any],
    folder: Path,
    cancel: threading.Event,
    deadline: float | None,
    environments: dict[str, Any] | None = None,
) -> TaskOutcome:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        session = task_remote(spark.remote())  # the task's own Connect session, released below
        spec, env = launcher.prepare(local_volume_paths(task, launcher.volumes_root), session, environments)
    except LaunchError as exc:
        return TaskOutcome("FAILED", str(exc), exc.code, error=str(exc))
    except SparkUnavailable as exc:
        return TaskOutcome("FAILED", f"The cluster's Spark could not start: {exc}", "CLUSTER_ERROR")
    result_path = folder / "result.json"
    spec["result_path"] = str(result_path)
    (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    with open(folder / "stdout.log", "wb") as stdout, open(folder / "stderr.log", "wb") as stderr:
        process = start_child(
            [sys.executable, *ISOLATED, str(CHILD), str(folder / "spec.json")],
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        stopped: TaskOutcome | None = None
        while process.poll() is None:
            if cancel.wait(0.05):
                stop_group(process)
                stopped = TaskOutcome("CANCELED", "Run cancelled.", "USER_CANCELED")
            elif deadline is not None and time.monotonic() > deadline:
                stop_group(process)
                stopped = TaskOutcome("TIMEDOUT", "Run timed out.", "CANCELED")
    unreleased = release_or_say(session)  # a killed task cannot release its session itself
    logs = (folder / "stdout.log").read_text(errors="replace")
    if stopped:
        stopped.logs = logs
        stopped.message += unreleased
        return stopped
    outcome = json.loads(result_path.read_text()) if result_path.exists() else None
    if outcome is None:
        message = f"The task process exited with code {process.returncode} before reporting a result."
        return TaskOutcome("FAILED", message, "DRIVER_ERROR", logs, error=message)
    if outcome["status"] != "success":
        return TaskOutcome(
            "FAILED",
            outcome["error"],
            "RUN_EXECUTION_ERROR",
            logs,
            outcome["error"],
            outcome.get("error_trace"),
        )
    return TaskOutcome("SUCCESS", "", "SUCCESS", logs, result=outcome.get("result"))
