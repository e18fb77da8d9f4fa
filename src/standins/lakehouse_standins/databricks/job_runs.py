"""A deployed job's run and its task runs, as `runs/get` and `runs/list` answer them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse_standins.databricks.task_process import TaskOutcome


def _now_ms() -> int:
    return int(time.time() * 1000)


def _state(
    life_cycle: str, result: str | None, message: str, code: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    state: dict[str, Any] = {
        "life_cycle_state": life_cycle,
        "state_message": message,
        "user_cancelled_or_timedout": result in ("CANCELED", "TIMEDOUT"),
    }
    status: dict[str, Any] = {"state": "TERMINATED" if life_cycle == "SKIPPED" else life_cycle}
    if result:
        state["result_state"] = result
        status["termination_details"] = {
            "code": code or result,
            "type": "SUCCESS" if result == "SUCCESS" else "CLIENT_ERROR",
            "message": message,
        }
    return state, status


@dataclass
class TaskRun:
    run_id: int
    task: dict[str, Any]
    life_cycle_state: str = "PENDING"
    result_state: str | None = None
    state_message: str = ""
    code: str | None = None
    start_time: int = 0
    end_time: int = 0
    outcome: TaskOutcome | None = None

    @property
    def key(self) -> str:
        return self.task["task_key"]

    def as_json(self, job_run: JobRun, base_url: str) -> dict[str, Any]:
        state, status = _state(self.life_cycle_state, self.result_state, self.state_message, self.code)
        return {
            **self.task,
            "run_id": self.run_id,
            "state": state,
            "status": status,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "run_page_url": f"{base_url}/#job/{job_run.job_id}/run/{self.run_id}",
        }


@dataclass
class JobRun:
    run_id: int
    job_id: int
    number_in_job: int
    run_name: str
    tasks: list[TaskRun]
    timeout_seconds: int
    folder: Path
    job_parameters: dict[str, str] = field(default_factory=dict)
    environments: dict[str, Any] = field(default_factory=dict)
    life_cycle_state: str = "QUEUED"
    result_state: str | None = None
    state_message: str = ""
    code: str | None = None
    start_time: int = field(default_factory=_now_ms)
    end_time: int = 0
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    # What a cancel reports: a user's, or the stand-in's own when it stops.
    cancel_message: str = "Run cancelled."
    cancel_code: str = "USER_CANCELED"

    def as_json(self, base_url: str) -> dict[str, Any]:
        state, status = _state(self.life_cycle_state, self.result_state, self.state_message, self.code)
        return {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "number_in_job": self.number_in_job,
            "run_name": self.run_name,
            "run_type": "JOB_RUN",
            "trigger": "ONE_TIME",
            "state": state,
            "status": status,
            "run_page_url": f"{base_url}/#job/{self.job_id}/run/{self.run_id}",
            "start_time": self.start_time,
            "end_time": self.end_time,
            "job_parameters": [{"name": k, "value": v} for k, v in self.job_parameters.items()],
            "tasks": [task.as_json(self, base_url) for task in self.tasks],
        }
