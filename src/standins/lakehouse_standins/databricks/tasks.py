"""Turn a submitted task into what its child process runs: file, widgets or argv, and environment."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_pipes import DAGSTER_PIPES_MESSAGES_ENV_VAR, decode_param

from lakehouse_standins.databricks.workspace import Workspace

if TYPE_CHECKING:
    from lakehouse_standins.databricks.environments import Environments

TASK_TYPES = ("notebook_task", "spark_python_task", "python_wheel_task")
# The only variables of the stand-in's own environment a task inherits: what any machine has.
_SYSTEM_VARIABLES = frozenset({"PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR"})
_MESSAGES_ARG = "--dagster-pipes-messages"


class LaunchError(Exception):
    """The task cannot start; the run fails with this message, as Databricks reports it."""

    def __init__(self, message: str, code: str = "RESOURCE_NOT_FOUND") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class TaskLauncher:
    """Where task code lives and what every child process sees.

    Code runs from the workspace's files (`workspace`), where a deploy put it: a notebook or file a
    task names that is not there does not exist, as on Databricks. `wheel_entries` maps
    `package:entry_point` of a python_wheel_task to the local file that stands in for that
    installed entry point.
    """

    workspace: Workspace
    volumes_root: Path
    wheel_entries: Mapping[str, Path] = field(default_factory=dict)
    # Builds each task's import path from what it declares (None: the stand-in's own sys.path).
    import_paths: Environments | None = None

    def prepare(
        self, task: dict[str, Any], spark_remote: str, environments: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        from lakehouse_standins.databricks.environments import declared_libraries, notebook_requirements

        declared = declared_libraries(task, environments or {})
        if "notebook_task" in task:
            notebook = task["notebook_task"]
            path = self.resolve(notebook["notebook_path"])
            declared += notebook_requirements(path.read_text(encoding="utf-8", errors="replace"))
            spec = {"kind": "notebook", "path": str(path), "widgets": notebook.get("base_parameters") or {}}
        elif "spark_python_task" in task:
            python = task["spark_python_task"]
            path = self.resolve(python["python_file"])
            spec = {"kind": "python", "path": str(path), "argv": list(python.get("parameters") or [])}
        else:
            wheel = task["python_wheel_task"]
            entry = f"{wheel.get('package_name')}:{wheel.get('entry_point')}"
            if entry not in self.wheel_entries:
                raise LaunchError(
                    f"Library installation failed: no wheel provides entry point {entry}",
                    "LIBRARY_INSTALLATION_ERROR",
                )
            named = [f"--{k}={v}" for k, v in (wheel.get("named_parameters") or {}).items()]
            argv = [*named, *(wheel.get("parameters") or [])]
            spec = {"kind": "python", "path": str(self.wheel_entries[entry]), "argv": argv}
        spec["volumes_root"] = str(self.volumes_root)
        if self.import_paths is not None:
            spec["sys_path"] = self.import_paths.sys_path(declared)
        return spec, self.environment(task, spark_remote)

    def resolve(self, workspace_path: str) -> Path:
        """The local file behind a workspace notebook or file a task runs."""
        found = self.workspace.runnable(workspace_path.removeprefix("file:"))
        if found is None:
            raise LaunchError(
                f"Unable to access the notebook or file {workspace_path}: it does not exist in the"
                " workspace (is the bundle deployed?)."
            )
        return found

    def resolve_dir(self, workspace_path: str) -> Path:
        found = self.workspace.folder(workspace_path.removeprefix("file:"))
        if found is None:
            raise LaunchError(
                f"Unable to access the folder {workspace_path}: it does not exist in the workspace."
            )
        return found

    def environment(self, task: dict[str, Any], spark_remote: str) -> dict[str, str]:
        """What compute gives a task: a system's basics, the cluster's spark_env_vars, the Spark URL.

        Nothing of the stand-in's own environment (cloud tokens, LAKEHOUSE_* settings) leaks in.
        """
        env = {k: v for k, v in os.environ.items() if k in _SYSTEM_VARIABLES}
        env.update((task.get("new_cluster") or {}).get("spark_env_vars") or {})
        env.update(
            DATABRICKS_RUNTIME_VERSION="standin",
            # How Connect clients find the server, as on serverless compute.
            SPARK_REMOTE=spark_remote,
            PYTHONUNBUFFERED="1",
        )
        return env


def _messages_params(task: dict[str, Any]) -> Iterator[str]:
    for container in (
        (task.get("notebook_task") or {}).get("base_parameters") or {},
        (task.get("new_cluster") or {}).get("spark_env_vars") or {},
    ):
        if DAGSTER_PIPES_MESSAGES_ENV_VAR in container:
            yield container[DAGSTER_PIPES_MESSAGES_ENV_VAR]
    for kind in ("spark_python_task", "python_wheel_task"):
        args = list((task.get(kind) or {}).get("parameters") or [])
        for flag, value in itertools.pairwise(args):
            if flag == _MESSAGES_ARG:
                yield value


def messages_dirs(tasks: list[dict[str, Any]], volumes_root: Path) -> list[Path]:
    """The local folders the tasks' Pipes message writers write to (for the lost-messages fault)."""
    folders = []
    for task in tasks:
        for encoded in _messages_params(task):
            path = str(decode_param(encoded).get("path", ""))
            if path.startswith("/Volumes/"):
                folders.append(volumes_root / path.removeprefix("/Volumes/"))
    return folders
