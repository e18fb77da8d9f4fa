"""What to run on Databricks, and the pure function that turns it into a runs/submit request."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lakehouse_resources.settings import DatabricksCompute

SERVERLESS_ENVIRONMENT_KEY = "lakehouse"


class TaskType(StrEnum):
    NOTEBOOK = "notebook"
    SPARK_PYTHON = "spark_python"
    PYTHON_WHEEL = "python_wheel"


@dataclass(frozen=True)
class DatabricksTaskSpec:
    """One Databricks task, independent of where it runs.

    `path` is a notebook path or a Python file; a relative one is resolved against the client's
    `notebook_root`. For a wheel task, `package_name` and `entry_point` name the installed entry point
    and `dependencies` the wheel (a cluster library or a serverless environment dependency).
    `parameters` reach a notebook as widgets and a Python task as `--name=value` arguments; `env`
    becomes `spark_env_vars` where a cluster is created, widgets or `--env NAME=value` elsewhere, and
    in every case the `env` entry of the Pipes extras (the one way to read them everywhere).
    """

    task_type: TaskType = TaskType.NOTEBOOK
    path: str = ""
    package_name: str | None = None
    entry_point: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    compute: DatabricksCompute | None = None
    timeout_seconds: float | None = None
    dependencies: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def notebook(cls, path: str, **kwargs: Any) -> DatabricksTaskSpec:
        return cls(task_type=TaskType.NOTEBOOK, path=path, **kwargs)

    @classmethod
    def python_file(cls, path: str, **kwargs: Any) -> DatabricksTaskSpec:
        return cls(task_type=TaskType.SPARK_PYTHON, path=path, **kwargs)

    @classmethod
    def wheel(cls, package_name: str, entry_point: str, **kwargs: Any) -> DatabricksTaskSpec:
        return cls(
            task_type=TaskType.PYTHON_WHEEL, package_name=package_name, entry_point=entry_point, **kwargs
        )


@dataclass(frozen=True)
class ComputeSettings:
    compute: DatabricksCompute
    cluster_id: str | None
    job_cluster: Mapping[str, Any]
    notebook_root: str


@dataclass(frozen=True)
class PipesBootstrap:
    env_vars: Mapping[str, str]
    cli_args: Mapping[str, str]


def resolve_path(path: str, root: str) -> str:
    if path.startswith(("/", "dbfs:", "file:", "s3:", "abfss:", "gs:")):
        return path
    return f"{root.rstrip('/')}/{path}"


def _libraries(dependencies: Sequence[str]) -> list[dict[str, Any]]:
    return [{"whl": d} if d.endswith(".whl") else {"pypi": {"package": d}} for d in dependencies]


def cluster_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags as cluster `custom_tags`, whose keys the clouds restrict (Azure refuses `/`)."""
    return {re.sub(r"[^A-Za-z0-9_.:+=@-]", "_", key): value for key, value in tags.items()}


# --- the task: what runs, with parameters, env (where no cluster is created) and the Pipes bootstrap ---
def _notebook_task(
    spec: DatabricksTaskSpec, settings: ComputeSettings, bootstrap: PipesBootstrap, env: Mapping[str, str]
) -> dict[str, Any]:
    overlap = set(spec.env) & set(spec.parameters)
    if overlap:
        raise ValueError(f"Names used both as env var and parameter: {sorted(overlap)}")
    return {
        "notebook_task": {
            "notebook_path": resolve_path(spec.path, settings.notebook_root).removesuffix(".py"),
            "base_parameters": {**spec.parameters, **env, **bootstrap.env_vars},
            "source": "WORKSPACE",
        }
    }


def _python_arguments(
    spec: DatabricksTaskSpec, bootstrap: PipesBootstrap, env: Mapping[str, str]
) -> list[str]:
    args = [f"--{name}={value}" for name, value in spec.parameters.items()]
    args += [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]
    return args + [arg for pair in bootstrap.cli_args.items() for arg in pair]


def _spark_python_task(
    spec: DatabricksTaskSpec, settings: ComputeSettings, bootstrap: PipesBootstrap, env: Mapping[str, str]
) -> dict[str, Any]:
    python_file = resolve_path(spec.path, settings.notebook_root)
    return {
        "spark_python_task": {
            "python_file": python_file,
            "parameters": _python_arguments(spec, bootstrap, env),
        }
    }


def _python_wheel_task(
    spec: DatabricksTaskSpec, settings: ComputeSettings, bootstrap: PipesBootstrap, env: Mapping[str, str]
) -> dict[str, Any]:
    if not (spec.package_name and spec.entry_point):
        raise ValueError("A python_wheel task needs package_name and entry_point")
    return {
        "python_wheel_task": {
            "package_name": spec.package_name,
            "entry_point": spec.entry_point,
            "parameters": _python_arguments(spec, bootstrap, env),
        }
    }


_TASKS = {
    TaskType.NOTEBOOK: _notebook_task,
    TaskType.SPARK_PYTHON: _spark_python_task,
    TaskType.PYTHON_WHEEL: _python_wheel_task,
}


# --- the compute: one function per mode, each adding its fields to the task (and the request) ---
@dataclass(frozen=True)
class _Submission:
    spec: DatabricksTaskSpec
    settings: ComputeSettings
    bootstrap: PipesBootstrap
    tags: Mapping[str, str]


def _on_serverless(task: dict[str, Any], body: dict[str, Any], job: _Submission) -> None:
    # Notebooks bring their own serverless environment; Python tasks name one with their dependencies.
    if job.spec.task_type is TaskType.NOTEBOOK:
        return
    task["environment_key"] = SERVERLESS_ENVIRONMENT_KEY
    environment = {"client": "2", "dependencies": list(job.spec.dependencies)}
    body["environments"] = [{"environment_key": SERVERLESS_ENVIRONMENT_KEY, "spec": environment}]


def _on_existing_cluster(task: dict[str, Any], body: dict[str, Any], job: _Submission) -> None:
    if not job.settings.cluster_id:
        raise ValueError("compute=existing_cluster needs a cluster id (DATABRICKS_CLUSTER_ID)")
    task["existing_cluster_id"] = job.settings.cluster_id
    if job.spec.dependencies:
        task["libraries"] = _libraries(job.spec.dependencies)


def _on_job_cluster(task: dict[str, Any], body: dict[str, Any], job: _Submission) -> None:
    cluster = dict(job.settings.job_cluster)
    env = {**cluster.get("spark_env_vars", {}), **job.spec.env, **job.bootstrap.env_vars}
    cluster["spark_env_vars"] = env
    cluster["custom_tags"] = {**cluster.get("custom_tags", {}), **cluster_tags(job.tags)}
    task["new_cluster"] = cluster
    if job.spec.dependencies:
        task["libraries"] = _libraries(job.spec.dependencies)


_COMPUTES = {
    DatabricksCompute.SERVERLESS: _on_serverless,
    DatabricksCompute.EXISTING_CLUSTER: _on_existing_cluster,
    DatabricksCompute.JOB_CLUSTER: _on_job_cluster,
}


def build_submit_request(
    spec: DatabricksTaskSpec,
    settings: ComputeSettings,
    bootstrap: PipesBootstrap,
    *,
    run_name: str,
    task_key: str,
    tags: Mapping[str, str],
    timeout_seconds: int,
    idempotency_token: str,
) -> dict[str, Any]:
    """The JSON body of `POST /api/2.2/jobs/runs/submit` for one task with the Pipes bootstrap.

    Only fields the Jobs API defines: runs/submit has no `tags`, so they become the job cluster's
    `custom_tags`; on serverless and existing clusters the Dagster run is named in `run_name`.
    """
    compute = spec.compute or settings.compute
    # A created cluster takes the env as spark_env_vars; elsewhere it travels with the parameters.
    env = {} if compute is DatabricksCompute.JOB_CLUSTER else spec.env
    task = {"task_key": task_key, **_TASKS[spec.task_type](spec, settings, bootstrap, env)}
    body: dict[str, Any] = {
        "run_name": run_name,
        "timeout_seconds": timeout_seconds,
        "idempotency_token": idempotency_token,
        "tasks": [task],
    }
    _COMPUTES[compute](task, body, _Submission(spec, settings, bootstrap, tags))
    return body
