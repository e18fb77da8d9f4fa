"""Entry point of a stand-in run's child process: `python _child.py <spec.json>`.

Only the standard library is imported here so the child starts fast and sees exactly the packages the
task code imports. Two things make the local process look like Databricks compute:

- `/Volumes/...` paths: `open()` is wrapped so a path under `/Volumes/` resolves inside the folder named
  by LAKEHOUSE_STANDIN_VOLUMES_ROOT. dagster_pipes' Unity Catalog Volumes context loader and message
  writer use plain `open()`, so they work unchanged. (Only `open` is mapped, not `os`/`pathlib` calls.)
- a notebook gets a `dbutils` whose `widgets.get` returns the task's base_parameters and raises for
  an undefined widget, and whose `notebook.exit(value)` ends the notebook with a result.
"""

from __future__ import annotations

import builtins
import json
import os
import runpy
import sys
import traceback
from typing import Any

_VOLUMES = "/Volumes/"


def _map_volumes(root: str) -> None:
    real_open = builtins.open

    def volume_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str) and file.startswith(_VOLUMES):
            file = os.path.join(root, file[len(_VOLUMES) :])
        return real_open(file, *args, **kwargs)

    builtins.open = volume_open


class InputWidgetNotDefined(Exception):
    """Named after the exception Databricks raises for `dbutils.widgets.get` of an unknown widget."""


class NotebookExit(BaseException):
    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class _Widgets:
    def __init__(self, parameters: dict[str, str]) -> None:
        self._parameters = dict(parameters)
        self._defaults: dict[str, str] = {}

    def get(self, name: str) -> str:
        if name in self._parameters:
            return self._parameters[name]
        if name in self._defaults:
            return self._defaults[name]
        raise InputWidgetNotDefined(f"No input widget named {name} is defined")

    def getAll(self) -> dict[str, str]:
        return {**self._defaults, **self._parameters}

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:
        self._defaults[name] = defaultValue

    def dropdown(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._defaults[name] = defaultValue

    def remove(self, name: str) -> None:
        self._defaults.pop(name, None)

    def removeAll(self) -> None:
        self._defaults.clear()


class _Notebook:
    def exit(self, value: Any) -> None:
        raise NotebookExit(str(value))


class DBUtils:
    def __init__(self, parameters: dict[str, str]) -> None:
        self.widgets = _Widgets(parameters)
        self.notebook = _Notebook()


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    path = spec["path"]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        if spec["kind"] == "notebook":
            dbutils = DBUtils(spec.get("widgets") or {})
            runpy.run_path(path, init_globals={"dbutils": dbutils, "display": print}, run_name="__main__")
        else:
            sys.argv = [path, *spec.get("argv", [])]
            runpy.run_path(path, run_name="__main__")
    except NotebookExit as done:
        return {"status": "success", "result": done.value}
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            return {"status": "failed", "error": f"SystemExit: {exit_.code}", "error_trace": ""}
    except BaseException as exc:
        return {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "error_trace": traceback.format_exc(),
        }
    return {"status": "success", "result": None}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    _map_volumes(os.environ["LAKEHOUSE_STANDIN_VOLUMES_ROOT"])
    outcome = _run(spec)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(spec["result_path"], "w", encoding="utf-8") as f:
        json.dump(outcome, f)
    return 0 if outcome["status"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
