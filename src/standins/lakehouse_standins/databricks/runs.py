"""One-time runs: their state machine and the child process that does the work."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from lakehouse_resources.processes import start_child, stop_group

from lakehouse_standins.databricks.bridge import BridgeError, WarehouseBridge
from lakehouse_standins.databricks.spark_runtime import (
    SparkServer,
    SparkUnavailable,
    release_or_say,
    task_remote,
)
from lakehouse_standins.databricks.task_process import ISOLATED
from lakehouse_standins.databricks.tasks import LaunchError, TaskLauncher, messages_dirs
from lakehouse_standins.databricks.volumes import Volumes

_CHILD = Path(__file__).with_name("_child.py")
_KILL_GRACE_SECONDS = 1.0


class RunFault(StrEnum):
    """Run-level faults a test scripts for the next submitted run."""

    FAIL = "fail"  # the run fails before the task starts, as when the cluster cannot start
    HANG = "hang"  # the task never finishes on its own (a real child process that sleeps)
    LOSE_MESSAGES = "lose_messages"  # the task runs, then its Pipes message files vanish


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Run:
    run_id: int
    run_name: str
    tasks: list[dict[str, Any]]
    timeout_seconds: int
    fault: RunFault | None
    folder: Path
    life_cycle_state: str = "PENDING"
    result_state: str | None = None
    state_message: str = ""
    termination_code: str | None = None
    start_time: int = field(default_factory=_now_ms)
    end_time: int = 0
    pid: int | None = None
    output: dict[str, Any] = field(default_factory=dict)
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    # The submit's serverless environments by key (what a task's environment_key names).
    environments: dict[str, Any] = field(default_factory=dict)
    # A cancel or time-out whose task is still being stopped: (result, message, code), reported
    # only once the task's Spark session is released (its queries stopped).
    stopping: tuple[str, str, str] | None = None
    # What a cancel reports: a user's, or the stand-in's own when it stops (`Jobs.cancel_all`).
    cancel_reason: tuple[str, str, str] = ("CANCELED", "Run cancelled.", "USER_CANCELED")

    def finish(self, result_state: str, message: str, code: str) -> None:
        self.life_cycle_state, self.result_state = "TERMINATING", result_state
        self.state_message, self.termination_code = message, code

    def as_json(self, base_url: str) -> dict[str, Any]:
        state: dict[str, Any] = {
            "life_cycle_state": self.life_cycle_state,
            "state_message": self.state_message,
            "user_cancelled_or_timedout": self.result_state in ("CANCELED", "TIMEDOUT"),
        }
        status: dict[str, Any] = {"state": self.life_cycle_state}
        if self.result_state and self.life_cycle_state == "TERMINATED":
            state["result_state"] = self.result_state
            kind = "SUCCESS" if self.result_state == "SUCCESS" else "CLIENT_ERROR"
            status["termination_details"] = {
                "code": self.termination_code,
                "type": kind,
                "message": self.state_message,
            }
        return {
            "run_id": self.run_id,
            "number_in_job": self.run_id,
            "run_name": self.run_name,
            "run_type": "SUBMIT_RUN",
            "state": state,
            "status": status,
            "run_page_url": f"{base_url}/#job/runs/{self.run_id}",
            "start_time": self.start_time,
            "end_time": self.end_time,
            "timeout_seconds": self.timeout_seconds,
            "tasks": [
                {**task, "run_id": self.run_id, "state": state, "status": status} for task in self.tasks
            ],
        }


class Executor:
    """Runs each submitted run on its own thread, one task after the other, in child processes."""

    def __init__(
        self,
        launcher: TaskLauncher,
        volumes: Volumes,
        spark: SparkServer,
        bridge: WarehouseBridge,
        save: Callable[[Run], None] = lambda run: None,
    ) -> None:
        self.launcher = launcher
        self.volumes = volumes
        self.spark = spark
        self.bridge = bridge
        self.save = save  # called when a run starts running and when it ends (history.py)
        self.threads: list[threading.Thread] = []

    def start(self, run: Run) -> None:
        thread = threading.Thread(target=self._execute, args=(run,), name=f"run-{run.run_id}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _execute(self, run: Run) -> None:
        try:
            self._execute_tasks(run)
        except Exception as exc:
            # A stand-in bug must end the run visibly, not leave it RUNNING for ever.
            run.finish("FAILED", f"Stand-in internal error: {exc!r}", "INTERNAL_ERROR")
            run.life_cycle_state = "INTERNAL_ERROR"
            run.end_time = _now_ms()
        finally:
            self.save(run)

    def _execute_tasks(self, run: Run) -> None:
        run.folder.mkdir(parents=True, exist_ok=True)
        if run.cancel_requested.is_set():
            run.finish(*run.cancel_reason)
        elif run.fault is RunFault.FAIL:
            run.finish("FAILED", "Scripted failure: the cluster could not be started.", "CLUSTER_ERROR")
        else:
            if run.fault is RunFault.LOSE_MESSAGES:
                self.volumes.lost.update(messages_dirs(run.tasks, self.volumes.root))
            run.life_cycle_state = "RUNNING"
            self.save(run)
            deadline = time.monotonic() + run.timeout_seconds if run.timeout_seconds else None
            for index, task in enumerate(run.tasks):
                self._run_task(run, index, task, deadline)
                if run.result_state:
                    break
            else:
                run.finish("SUCCESS", "", "SUCCESS")
            if run.fault is RunFault.LOSE_MESSAGES:
                for folder in messages_dirs(run.tasks, self.volumes.root):
                    for chunk in folder.glob("*.json"):
                        chunk.unlink(missing_ok=True)
        run.end_time = _now_ms()
        run.life_cycle_state = "TERMINATED"

    def _run_task(self, run: Run, index: int, task: dict[str, Any], deadline: float | None) -> None:
        try:
            remote = self.spark.remote()
            self.bridge.to_spark(remote)
            session = task_remote(remote)
            spec, env = self.launcher.prepare(task, session, run.environments)
        except LaunchError as exc:
            run.finish("FAILED", str(exc), exc.code)
            return
        except (SparkUnavailable, BridgeError) as exc:
            run.finish("FAILED", f"The cluster could not start: {exc}", "CLUSTER_ERROR")
            return
        if self._stopped_before_start(run, deadline):
            return
        unreleased = ""
        try:
            succeeded = self._run_child(run, index, spec, env, deadline)
        finally:
            # A killed task cannot release its Connect session itself: its queries would run on.
            unreleased = release_or_say(session)
        if run.stopping:
            result, message, code = run.stopping
            run.finish(result, message + unreleased, code)
            return
        if succeeded:
            try:
                self.bridge.to_duckdb(remote)
            except BridgeError as exc:
                run.finish(
                    "FAILED", f"The task's tables could not be shown to the warehouse: {exc}", "DRIVER_ERROR"
                )

    def _run_child(
        self, run: Run, index: int, spec: dict[str, Any], env: dict[str, str], deadline: float | None
    ) -> bool:
        """Run the task's child process; True when it succeeded."""
        result_path = run.folder / f"task-{index}-result.json"
        spec["result_path"] = str(result_path)
        spec_path = run.folder / f"task-{index}-spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        command = [sys.executable, *ISOLATED, str(_CHILD), str(spec_path)]
        if run.fault is RunFault.HANG:
            command = [sys.executable, "-c", "import time\nwhile True: time.sleep(1)"]
        with (
            open(run.folder / f"task-{index}-stdout.log", "wb") as stdout,
            open(run.folder / f"task-{index}-stderr.log", "wb") as stderr,
        ):
            # Its own session (and so process group): cancel kills everything the task started.
            process = start_child(command, env=env, stdout=stdout, stderr=stderr)
            run.pid = process.pid
            stopped = self._wait(run, process, deadline)
        logs = (run.folder / f"task-{index}-stdout.log").read_text(errors="replace")
        run.output = {"logs": logs[-10_000:], "logs_truncated": len(logs) > 10_000}
        if stopped:
            return False
        outcome = json.loads(result_path.read_text()) if result_path.exists() else None
        if outcome is None:
            message = f"The task process exited with code {process.returncode} before reporting a result."
            run.output.update(error=message)
            run.finish("FAILED", message, "DRIVER_ERROR")
            return False
        if outcome["status"] != "success":
            run.output.update(error=outcome["error"], error_trace=outcome["error_trace"])
            run.finish("FAILED", outcome["error"], "RUN_EXECUTION_ERROR")
            return False
        if outcome.get("result") is not None:
            run.output["notebook_output"] = {"result": outcome["result"], "truncated": False}
        return True

    def _stopped_before_start(self, run: Run, deadline: float | None) -> bool:
        """A cancel or timeout that came while the cluster was being prepared ends the run here."""
        if run.cancel_requested.is_set():
            run.finish(*run.cancel_reason)
            return True
        if deadline is not None and time.monotonic() > deadline:
            run.finish("TIMEDOUT", f"Run timed out after {run.timeout_seconds} seconds.", "CANCELED")
            return True
        return False

    def _wait(self, run: Run, process: subprocess.Popen[bytes], deadline: float | None) -> bool:
        """Wait for the child; on cancel or timeout kill its process group and say so."""
        while process.poll() is None:
            if run.cancel_requested.wait(0.05):
                run.life_cycle_state = "TERMINATING"
                stop_group(process, _KILL_GRACE_SECONDS)
                run.stopping = run.cancel_reason
                return True
            if deadline is not None and time.monotonic() > deadline:
                run.life_cycle_state = "TERMINATING"
                stop_group(process, _KILL_GRACE_SECONDS)
                run.stopping = ("TIMEDOUT", f"Run timed out after {run.timeout_seconds} seconds.", "CANCELED")
                return True
        return False
