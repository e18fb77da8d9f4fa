"""What to run on Databricks, and the pure function that turns it into a runs/submit request."""

from __future__ import annotations

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
    """The JSON body of `POST /api/2.2/jobs/runs/submit` for one task with the Pipes bootstrap."""
    compute = spec.compute or settings.compute
    if compute is DatabricksCompute.EXISTING_CLUSTER and not settings.cluster_id:
        raise ValueError("compute=existing_cluster needs a cluster id (DATABRICKS_CLUSTER_ID)")
    overlap = set(spec.env) & set(spec.parameters)
    if overlap and spec.task_type is TaskType.NOTEBOOK:
        raise ValueError(f"Names used both as env var and parameter: {sorted(overlap)}")
    creates_cluster = compute is DatabricksCompute.JOB_CLUSTER
    task: dict[str, Any] = {"task_key": task_key, "tags": dict(tags)}

    if spec.task_type is TaskType.NOTEBOOK:
        widgets = {**spec.parameters, **({} if creates_cluster else spec.env), **bootstrap.env_vars}
        task["notebook_task"] = {
            "notebook_path": resolve_path(spec.path, settings.notebook_root).removesuffix(".py"),
            "base_parameters": widgets,
            "source": "WORKSPACE",
        }
    else:
        args = [f"--{name}={value}" for name, value in spec.parameters.items()]
        if not creates_cluster:
            args += [arg for name, value in spec.env.items() for arg in ("--env", f"{name}={value}")]
        args += [arg for pair in bootstrap.cli_args.items() for arg in pair]
        if spec.task_type is TaskType.SPARK_PYTHON:
            python_file = resolve_path(spec.path, settings.notebook_root)
            task["spark_python_task"] = {"python_file": python_file, "parameters": args}
        else:
            if not (spec.package_name and spec.entry_point):
                raise ValueError("A python_wheel task needs package_name and entry_point")
            task["python_wheel_task"] = {
                "package_name": spec.package_name,
                "entry_point": spec.entry_point,
                "parameters": args,
            }

    body: dict[str, Any] = {
        "run_name": run_name,
        "timeout_seconds": timeout_seconds,
        "idempotency_token": idempotency_token,
        "tasks": [task],
    }
    if compute is DatabricksCompute.EXISTING_CLUSTER:
        task["existing_cluster_id"] = settings.cluster_id
    elif creates_cluster:
        cluster = dict(settings.job_cluster)
        cluster["spark_env_vars"] = {**cluster.get("spark_env_vars", {}), **spec.env, **bootstrap.env_vars}
        task["new_cluster"] = cluster
    elif spec.task_type is not TaskType.NOTEBOOK:
        # Serverless Python tasks need an environment; notebooks bring their own.
        task["environment_key"] = SERVERLESS_ENVIRONMENT_KEY
        environment = {"client": "2", "dependencies": list(spec.dependencies)}
        body["environments"] = [{"environment_key": SERVERLESS_ENVIRONMENT_KEY, "spec": environment}]
    if spec.dependencies and compute is not DatabricksCompute.SERVERLESS:
        task["libraries"] = _libraries(spec.dependencies)
    return body
