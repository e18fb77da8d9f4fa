"""Entry point of a stand-in run's child process: `python _child.py <spec.json>`.

Only the standard library is imported up front so a Python task sees exactly the packages it imports.
What makes the local process look like Databricks compute:

- `/Volumes/...` paths: `open()` is wrapped so a path under `/Volumes/` resolves inside the spec's
  `volumes_root`. dagster_pipes' Unity Catalog Volumes context loader and message writer use plain
  `open()`, so they work unchanged. (Only `open` is mapped, not `os`/`pathlib` calls.)
- a notebook gets the globals a Databricks notebook has: `spark` (a Spark Connect session on the
  stand-in's Spark, found through SPARK_REMOTE as on serverless), `display`, and `dbutils` whose
  `widgets.get` returns the task's base_parameters and raises for an undefined widget, whose
  `fs` works on `/Volumes/...` paths and whose `notebook.exit(value)` ends the notebook with a result.
- a Python task gets its parameters as argv and builds its own session
  (`SparkSession.builder.getOrCreate()`), exactly as on a workspace.
"""

from __future__ import annotations

import builtins
import json
import os
import runpy
import shutil
import sys
import traceback
from typing import Any, NamedTuple

_VOLUMES = "/Volumes/"
_JVM_TRACE = "\nJVM stacktrace:"
_volumes_root = ""


def _local(path: str) -> str:
    """A `/Volumes/...` (or `dbfs:/Volumes/...`) path on this machine's disk."""
    path = path.removeprefix("dbfs:")
    if not path.startswith(_VOLUMES):
        raise ValueError(f"Only Unity Catalog Volumes paths (/Volumes/...) are supported here: {path}")
    return os.path.join(_volumes_root, path[len(_VOLUMES) :])


def _map_volumes(root: str) -> None:
    global _volumes_root
    _volumes_root = root
    real_open = builtins.open

    def volume_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str) and file.startswith(_VOLUMES):
            file = _local(file)
        return real_open(file, *args, **kwargs)

    builtins.open = volume_open


class FileInfo(NamedTuple):
    path: str
    name: str
    size: int
    modificationTime: int


class _Fs:
    """`dbutils.fs` over Unity Catalog Volumes (the only storage a serverless task has)."""

    def ls(self, path: str) -> list[FileInfo]:
        found = []
        for entry in sorted(os.scandir(_local(path)), key=lambda e: e.name):
            name = entry.name + ("/" if entry.is_dir() else "")
            stat = entry.stat()
            size = 0 if entry.is_dir() else stat.st_size
            found.append(FileInfo(f"{path.rstrip('/')}/{name}", name, size, int(stat.st_mtime * 1000)))
        return found

    def mkdirs(self, path: str) -> bool:
        os.makedirs(_local(path), exist_ok=True)
        return True

    def put(self, path: str, contents: str, overwrite: bool = False) -> bool:
        local = _local(path)
        if os.path.exists(local) and not overwrite:
            raise FileExistsError(f"File {path} already exists (pass overwrite=True)")
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, "w", encoding="utf-8") as f:
            f.write(contents)
        return True

    def head(self, path: str, maxBytes: int = 65536) -> str:
        with open(_local(path), "rb") as f:
            return f.read(maxBytes).decode("utf-8", errors="replace")

    def cp(self, source: str, destination: str, recurse: bool = False) -> bool:
        if recurse and os.path.isdir(_local(source)):
            shutil.copytree(_local(source), _local(destination), dirs_exist_ok=True)
        else:
            shutil.copyfile(_local(source), _local(destination))
        return True

    def mv(self, source: str, destination: str, recurse: bool = False) -> bool:
        shutil.move(_local(source), _local(destination))
        return True

    def rm(self, path: str, recurse: bool = False) -> bool:
        local = _local(path)
        if os.path.isdir(local):
            if not recurse:
                raise IsADirectoryError(f"{path} is a directory: pass recurse=True")
            shutil.rmtree(local)
            return True
        if os.path.exists(local):
            os.remove(local)
            return True
        return False


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
        self.fs = _Fs()


def display(value: Any, *args: Any, **kwargs: Any) -> None:
    """A notebook's `display`: a DataFrame shows as a table in the run's logs."""
    show = getattr(value, "show", None)
    if callable(show):
        show(truncate=False)
    else:
        print(value)


def _notebook_globals(parameters: dict[str, str]) -> dict[str, Any]:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    return {"spark": spark, "dbutils": DBUtils(parameters), "display": display}


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    path = spec["path"]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        if spec["kind"] == "notebook":
            notebook_globals = _notebook_globals(spec.get("widgets") or {})
            runpy.run_path(path, init_globals=notebook_globals, run_name="__main__")
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
            # Spark Connect errors carry the server's JVM stack trace; the run's error is the message.
            "error": f"{type(exc).__name__}: {str(exc).split(_JVM_TRACE)[0].strip()}",
            "error_trace": traceback.format_exc(),
        }
    return {"status": "success", "result": None}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    if "sys_path" in spec:
        # The runtime and what the task declared (started with -I -S: no site-packages of our own).
        sys.path[:] = spec["sys_path"]
    _map_volumes(spec["volumes_root"])
    outcome = _run(spec)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(spec["result_path"], "w", encoding="utf-8") as f:
        json.dump(outcome, f)
    return 0 if outcome["status"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
