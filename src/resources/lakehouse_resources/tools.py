"""Wire the offline copies of Sling, the DuckDB CLI and httpfs that ship in PyPI packages.

Sling downloads its binary and a DuckDB CLI unless told where they are, and that download fails
offline. `local_tool_env()` computes the variables; `ensure_local_tools()` applies them to this
process at run time (never at import) so Sling, dlt and dbt subprocesses inherit them.
"""

from __future__ import annotations

import os
import stat
import sys
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakehouse_resources.settings import LakehouseSettings

DUCKDB_VERSION = "v1.5.5"


def _package_dir(name: str) -> Path | None:
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _sling_binary() -> Path | None:
    package = _package_dir("sling_linux_amd64")
    binary = package / "bin" / "sling-linux-amd64" if package else None
    return binary if binary and binary.exists() else None


def _duckdb_cli() -> Path | None:
    # The real binary inside the package, not the Python wrapper script in the venv's bin/.
    package = _package_dir("duckdb_cli")
    binary = package / "duckdb" if package else None
    return binary if binary and binary.exists() else None


def local_tool_env() -> dict[str, str]:
    env = {
        "SLING_DISABLE_TELEMETRY": "true",
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DUCKDB_USE_INSTALLED_EXTENSIONS": "true",
        "DO_NOT_TRACK": "1",
    }
    if sling := _sling_binary():
        env["SLING_BINARY"] = str(sling)
    if cli := _duckdb_cli():
        env["DUCKDB_PATH"] = str(cli)
    # dagster-dbt and dlt look up executables next to the interpreter; make sure they are on PATH.
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        env["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    return env


@cache
def install_duckdb_extensions() -> None:
    """Put the packaged extensions (httpfs; delta, for Spark's Delta tables) where Python duckdb and
    the CLI look for them, so they load offline, on first use, in every process."""
    import duckdb

    with duckdb.connect() as con:
        for extension in ("httpfs", "delta"):
            package = _package_dir(f"duckdb_extension_{extension}")
            if package is None:
                continue
            source = package / "extensions" / DUCKDB_VERSION / f"{extension}.duckdb_extension"
            installed = con.execute(
                "select installed from duckdb_extensions() where extension_name = ?", [extension]
            ).fetchone()
            if not (installed and installed[0]) and source.exists():
                con.execute(f"INSTALL '{source}'")


def ensure_local_tools(settings: LakehouseSettings | None = None) -> None:
    """Apply `local_tool_env()` (and the settings child tools read) to this process; idempotent.

    dbt's profiles, dlt and notebooks run as child processes and read the warehouse location
    from the environment, so the resolved settings are exported before they start.
    """
    for key, value in local_tool_env().items():
        if key == "PATH":
            os.environ["PATH"] = value
        else:
            os.environ.setdefault(key, value)
    if settings is not None:
        os.environ.update(settings.child_process_env())
    if sling := _sling_binary():
        mode = sling.stat().st_mode
        if not mode & stat.S_IXUSR:  # wheels do not always keep the run bit
            sling.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    install_duckdb_extensions()
