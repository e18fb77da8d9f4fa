"""The stand-in's account: jobs and runs, kept in memory and mirrored to a JSON file.

dbt Cloud is persistent, and dagster-dbt keeps the ids of its ad hoc job in persisted definitions
state, so a restarted stand-in must still know the jobs (and the run history) it had before.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

from lakehouse_resources.settings import DBT_CLOUD_JOB_NAME


class RunStatus(IntEnum):
    QUEUED = 1
    STARTING = 2
    RUNNING = 3
    SUCCESS = 10
    ERROR = 20
    CANCELLED = 30

    @property
    def humanized(self) -> str:
        return self.name.capitalize()

    @property
    def is_terminal(self) -> bool:
        return self >= RunStatus.SUCCESS


@dataclass(frozen=True)
class StandinConfig:
    """What the stand-in serves and where a run executes dbt."""

    project_dir: Path
    work_dir: Path
    duckdb_path: Path
    account_id: int = 1
    project_id: int = 1
    environment_id: int = 1
    dbt_target: str = "local"
    # The token clients must send (`Authorization: Token ...`); tests read it from the config.
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # Run folders (dbt's target/ and logs) kept on disk; older runs keep their record, not their files.
    keep_runs: int = 20
    # The job a team schedules in dbt Cloud; runs of it are what the polling sensor reports.
    default_job_name: str = DBT_CLOUD_JOB_NAME
    default_job_steps: tuple[str, ...] = ("dbt build",)


def now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime | None) -> str | None:
    # dbt Cloud's wire format: "2024-05-01 10:11:12.123456+00:00".
    return moment.isoformat(sep=" ") if moment else None


@dataclass
class Job:
    id: int
    account_id: int
    project_id: int
    environment_id: int
    name: str
    description: str = ""
    job_type: str = "other"
    execute_steps: list[str] = field(default_factory=lambda: ["dbt build"])
    created_at: str = field(default_factory=lambda: timestamp(now()) or "")
    state: int = 1  # 1 active, 2 deleted

    def to_api(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "updated_at": self.created_at,
            "dbt_version": None,
            "triggers": {"github_webhook": False, "schedule": False, "git_provider_webhook": False},
            "settings": {"threads": 1, "target_name": "default"},
            "generate_docs": False,
            "run_generate_sources": False,
        }


@dataclass
class Step:
    index: int
    name: str
    command: str
    status: RunStatus = RunStatus.QUEUED
    log_file: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def logs(self) -> str:
        path = Path(self.log_file) if self.log_file else None
        return path.read_text(errors="replace") if path and path.exists() else ""


@dataclass
class Run:
    id: int
    job: Job
    cause: str
    steps: list[Step]
    run_dir: str
    status: RunStatus = RunStatus.QUEUED
    status_message: str | None = None
    created_at: datetime = field(default_factory=now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    href: str = ""
    hidden_artifacts: list[str] = field(default_factory=list)

    @property
    def target_dir(self) -> Path:
        return Path(self.run_dir) / "target"

    def artifacts(self) -> list[str]:
        if not self.target_dir.exists():
            return []
        names = (p.relative_to(self.target_dir).as_posix() for p in self.target_dir.rglob("*") if p.is_file())
        return sorted(n for n in names if n not in self.hidden_artifacts)

    def to_api(self, include_steps: bool = False, include_job: bool = False) -> dict[str, Any]:
        end = self.finished_at or now()
        duration = (end - (self.started_at or self.created_at)).total_seconds()
        data: dict[str, Any] = {
            "id": self.id,
            "trigger_id": self.id,
            "account_id": self.job.account_id,
            "project_id": self.job.project_id,
            "environment_id": self.job.environment_id,
            "job_definition_id": self.job.id,
            "job_id": self.job.id,
            "status": int(self.status),
            "status_humanized": self.status.humanized,
            "status_message": self.status_message,
            "in_progress": not self.status.is_terminal,
            "is_complete": self.status.is_terminal,
            "is_success": self.status is RunStatus.SUCCESS,
            "is_error": self.status is RunStatus.ERROR,
            "is_cancelled": self.status is RunStatus.CANCELLED,
            "trigger": {
                "id": self.id,
                "cause": self.cause,
                "steps_override": [s.command for s in self.steps],
            },
            "created_at": timestamp(self.created_at),
            "updated_at": timestamp(self.finished_at or self.started_at or self.created_at),
            "started_at": timestamp(self.started_at),
            "finished_at": timestamp(self.finished_at),
            "duration": f"{duration:.0f}",
            "duration_humanized": f"{duration:.0f} seconds",
            "href": self.href,
            "artifacts_saved": bool(self.artifacts()),
            "git_branch": "main",
            "dbt_version": "1.10",
        }
        if include_steps:
            data["run_steps"] = [self._step_api(step) for step in self.steps]
        if include_job:
            data["job"] = self.job.to_api()
        return data

    def _step_api(self, step: Step) -> dict[str, Any]:
        return {
            "id": self.id * 100 + step.index,
            "run_id": self.id,
            "account_id": self.job.account_id,
            "index": step.index,
            "name": step.name,
            "status": int(step.status),
            "status_humanized": step.status.humanized,
            "logs": step.logs(),
            "started_at": timestamp(step.started_at),
            "finished_at": timestamp(step.finished_at),
        }


class Store:
    """Thread-safe jobs and runs; every change is written to `work_dir/state.json`."""

    def __init__(self, config: StandinConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.jobs: dict[int, Job] = {}
        self.runs: dict[int, Run] = {}
        self._next_job_id = 1
        self._next_run_id = 1
        self._state_file = config.work_dir / "state.json"
        config.work_dir.mkdir(parents=True, exist_ok=True)
        if not self._load():
            self.create_job(
                config.default_job_name, "The scheduled kaizen_wars job.", list(config.default_job_steps)
            )
        self.prune_run_folders()

    def create_job(self, name: str, description: str = "", steps: list[str] | None = None) -> Job:
        with self.lock:
            job = Job(
                id=self._next_job_id,
                account_id=self.config.account_id,
                project_id=self.config.project_id,
                environment_id=self.config.environment_id,
                name=name,
                description=description,
                execute_steps=steps or ["dbt build"],
            )
            self._next_job_id += 1
            self.jobs[job.id] = job
            self.save()
            return job

    def active_jobs(self) -> list[Job]:
        with self.lock:
            return [job for job in self.jobs.values() if job.state == 1]

    def new_run(self, job: Job, cause: str, commands: list[str], base_url: str) -> Run:
        with self.lock:
            run_id = self._next_run_id
            self._next_run_id += 1
            run_dir = self.config.work_dir / "runs" / str(run_id)
            steps = [
                Step(index=i + 1, name=f"Invoke dbt with `{c}`", command=c) for i, c in enumerate(commands)
            ]
            run = Run(id=run_id, job=job, cause=cause, steps=steps, run_dir=str(run_dir))
            run.href = f"{base_url}/deploy/{job.account_id}/projects/{job.project_id}/runs/{run_id}/"
            self.runs[run_id] = run
            self.save()
            return run

    def prune_run_folders(self) -> list[int]:
        """Delete the folders of finished runs beyond the last `keep_runs`; their records stay.

        Each run leaves dbt's target/ and logs (megabytes, dozens of files) under .lakehouse/.
        """
        with self.lock:
            finished = sorted(r.id for r in self.runs.values() if r.status.is_terminal)
            old = [self.runs[run_id] for run_id in finished[: max(0, len(finished) - self.config.keep_runs)]]
        pruned = []
        for run in old:
            if Path(run.run_dir).exists():
                shutil.rmtree(run.run_dir, ignore_errors=True)
                pruned.append(run.id)
        return pruned

    def save(self) -> None:
        with self.lock:
            payload = {
                "next_job_id": self._next_job_id,
                "next_run_id": self._next_run_id,
                "jobs": [asdict(job) for job in self.jobs.values()],
                "runs": [self._run_state(run) for run in self.runs.values()],
            }
            tmp = self._state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(payload, default=str))
            tmp.replace(self._state_file)

    @staticmethod
    def _run_state(run: Run) -> dict[str, Any]:
        state = asdict(run)
        state["job"] = run.job.id
        return state

    def _load(self) -> bool:
        if not self._state_file.exists():
            return False
        payload = json.loads(self._state_file.read_text())
        self._next_job_id, self._next_run_id = payload["next_job_id"], payload["next_run_id"]
        self.jobs = {j["id"]: Job(**j) for j in payload["jobs"]}
        for raw in payload["runs"]:
            run = self._restore_run(raw)
            self.runs[run.id] = run
        return True

    def _restore_run(self, raw: dict[str, Any]) -> Run:
        def moment(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        steps = [
            Step(
                index=s["index"],
                name=s["name"],
                command=s["command"],
                status=RunStatus(s["status"]),
                log_file=s["log_file"],
                started_at=moment(s["started_at"]),
                finished_at=moment(s["finished_at"]),
            )
            for s in raw["steps"]
        ]
        run = Run(
            id=raw["id"],
            job=self.jobs[raw["job"]],
            cause=raw["cause"],
            steps=steps,
            run_dir=raw["run_dir"],
            status=RunStatus(raw["status"]),
            status_message=raw["status_message"],
            created_at=moment(raw["created_at"]) or now(),
            started_at=moment(raw["started_at"]),
            finished_at=moment(raw["finished_at"]),
            href=raw["href"],
            hidden_artifacts=raw["hidden_artifacts"],
        )
        if not run.status.is_terminal:
            # Its process died with the previous stand-in.
            run.status, run.status_message = RunStatus.ERROR, "The stand-in restarted during this run."
            run.finished_at = run.finished_at or now()
        return run
