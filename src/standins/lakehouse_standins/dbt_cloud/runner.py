"""Execute dbt Cloud runs for real: each step is a dbt-core process against the local warehouse.

Runs execute one at a time, because DuckDB allows a single writer per file; the others wait as
`queued`, as a busy dbt Cloud job does. Every dbt process gets its own process group so a cancel
kills dbt and anything it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lakehouse_resources.processes import start_child
from lakehouse_resources.tools import ensure_local_tools

from lakehouse_standins.dbt_cloud.store import Run, RunStatus, Step, Store, now

RunFaultKind = Literal["failing_test", "missing_artifact", "slow", "hang"]
_VARS_COMMANDS = {"build", "run", "test", "seed", "snapshot", "compile", "parse", "show", "run-operation"}


@dataclass
class RunFault:
    """Make the next `times` runs (of `job_id`, or of any job) misbehave.

    failing_test: the catalog price test fails, so `dbt build` ends in error.
    missing_artifact: `artifact` is neither listed nor served after the run.
    slow: the run sits in `running` for `delay_seconds` before dbt starts.
    hang: the run's process never ends; only a cancel stops it.
    """

    kind: RunFaultKind
    job_id: int | None = None
    times: int = 1
    artifact: str = "run_results.json"
    delay_seconds: float = 5.0
    hits: int = 0


class RunExecutor:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.faults: list[RunFault] = []
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._cancelled: dict[int, threading.Event] = {}
        self._done: dict[int, threading.Event] = {}
        self._thread = threading.Thread(target=self._work, name="dbt-cloud-standin-runs", daemon=True)
        self._thread.start()

    def submit(self, run: Run) -> None:
        self._cancelled[run.id] = threading.Event()
        self._done[run.id] = threading.Event()
        self._queue.put(run.id)

    def pid(self, run_id: int) -> int | None:
        process = self._processes.get(run_id)
        return process.pid if process else None

    def cancel(self, run_id: int, timeout: float = 15.0) -> None:
        cancelled, done = self._cancelled.get(run_id), self._done.get(run_id)
        if cancelled is None or done is None:
            return
        cancelled.set()
        self._kill(run_id)
        done.wait(timeout)

    def close(self) -> None:
        for run_id in list(self._cancelled):
            self._cancelled[run_id].set()
            self._kill(run_id)
        self._queue.put(None)
        self._thread.join(10)

    def _kill(self, run_id: int) -> None:
        process = self._processes.get(run_id)
        if process and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def _take_fault(self, run: Run) -> RunFault | None:
        with self.store.lock:
            for fault in self.faults:
                if fault.hits < fault.times and fault.job_id in (None, run.job.id):
                    fault.hits += 1
                    return fault
        return None

    def _work(self) -> None:
        while (run_id := self._queue.get()) is not None:
            run = self.store.runs[run_id]
            try:
                self._execute(run, self._cancelled[run_id])
            except Exception as exc:  # a stand-in bug must end the run, not the worker
                self._finish(run, RunStatus.ERROR, f"stand-in error: {exc!r}")
            finally:
                self._processes.pop(run_id, None)
                self._done[run_id].set()

    def _execute(self, run: Run, cancelled: threading.Event) -> None:
        if cancelled.is_set():
            return self._finish(run, RunStatus.CANCELLED, "Cancelled while queued.")
        fault = self._take_fault(run)
        with self.store.lock:
            run.status, run.started_at = RunStatus.STARTING, now()
        run.target_dir.mkdir(parents=True, exist_ok=True)
        self._reuse_partial_parse(run)
        ensure_local_tools()
        with self.store.lock:
            run.status = RunStatus.RUNNING
        if fault and fault.kind == "slow" and cancelled.wait(fault.delay_seconds):
            return self._finish(run, RunStatus.CANCELLED, "Cancelled by user.")
        for step in run.steps:
            status = self._run_step(run, step, fault, cancelled)
            if status is not RunStatus.SUCCESS:
                for later in run.steps[step.index :]:
                    later.status = RunStatus.CANCELLED if status is RunStatus.CANCELLED else RunStatus.QUEUED
                message = "Cancelled by user." if status is RunStatus.CANCELLED else f"{step.name} failed."
                return self._finish(run, status, message)
        if fault and fault.kind == "missing_artifact":
            run.hidden_artifacts.append(fault.artifact)
        self._finish(run, RunStatus.SUCCESS, None)

    def _run_step(
        self, run: Run, step: Step, fault: RunFault | None, cancelled: threading.Event
    ) -> RunStatus:
        log_file = Path(run.run_dir) / f"step-{step.index}.log"
        with self.store.lock:
            step.status, step.started_at, step.log_file = RunStatus.RUNNING, now(), str(log_file)
        command = self._command(step.command, fault)
        with log_file.open("wb") as log:
            log.write(f"$ {shlex.join(command)}\n".encode())
            log.flush()
            # Own group (a cancel kills dbt and its children) and dies with the stand-in.
            process = start_child(
                command,
                cwd=self.store.config.project_dir,
                env=self._env(run),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self._processes[run.id] = process
            if cancelled.is_set():  # a cancel that raced the start
                self._kill(run.id)
            code = process.wait()
        status = (
            RunStatus.CANCELLED if cancelled.is_set() else RunStatus.SUCCESS if code == 0 else RunStatus.ERROR
        )
        with self.store.lock:
            step.status, step.finished_at = status, now()
        return status

    def _command(self, step_command: str, fault: RunFault | None) -> list[str]:
        if fault and fault.kind == "hang":
            return [sys.executable, "-c", "import time\nwhile True: time.sleep(60)"]
        words = shlex.split(step_command)
        if not words or words[0] != "dbt":
            return [sys.executable, "-c", f"raise SystemExit('not a dbt command: {step_command!r}')"]
        args = [str(Path(sys.executable).parent / "dbt"), *words[1:]]
        if fault and fault.kind == "failing_test" and len(words) > 1 and words[1] in _VARS_COMMANDS:
            args += ["--vars", json.dumps({"kaizen_wars_max_unit_price_gems": 0})]
        return args

    def _env(self, run: Run) -> dict[str, str]:
        config = self.store.config
        return {
            **os.environ,
            "DBT_PROJECT_DIR": str(config.project_dir),
            "DBT_PROFILES_DIR": str(config.project_dir),
            "DBT_TARGET": config.dbt_target,
            "DBT_TARGET_PATH": str(run.target_dir),
            "DBT_LOG_PATH": str(Path(run.run_dir) / "logs"),
            "DBT_USE_COLORS": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "LAKEHOUSE_DUCKDB_PATH": str(config.duckdb_path),
            # dbt copies DBT_ENV_CUSTOM_ENV_* into run_results.json metadata.env, which
            # dagster-dbt reads to tie the artifacts to this run.
            "DBT_ENV_CUSTOM_ENV_DBT_CLOUD_RUN_ID": str(run.id),
            "DBT_ENV_CUSTOM_ENV_DBT_CLOUD_JOB_ID": str(run.job.id),
        }

    def _reuse_partial_parse(self, run: Run) -> None:
        # Each run has its own target folder; seeding it with the last parse saves seconds per run.
        with self.store.lock:
            previous = sorted(
                (r for r in self.store.runs.values() if r.id < run.id and r.status is RunStatus.SUCCESS),
                key=lambda r: r.id,
            )
        for earlier in reversed(previous):
            cached = earlier.target_dir / "partial_parse.msgpack"
            if cached.exists():
                shutil.copy2(cached, run.target_dir / cached.name)
                return

    def _finish(self, run: Run, status: RunStatus, message: str | None) -> None:
        with self.store.lock:
            run.status, run.status_message, run.finished_at = status, message, now()
            self.store.save()
            # Under the lock, so whoever sees this run finished also sees the old folders gone.
            self.store.prune_run_folders()
