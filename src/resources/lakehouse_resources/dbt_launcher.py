"""`lakehouse-dbt`: this environment's dbt, tied to the process that starts it.

dagster-dbt starts dbt with a plain `Popen` (no hook to run code in the child), so a `kill -9` of
the run left `dbt build` running with parent 1, holding the DuckDB lock. `DbtCliResource`'s
`dbt_executable` points here instead: the launcher sets the parent-death signal, then runs dbt in
the same process. Its path comes from the interpreter, so dbt is found even when the virtual
environment's `bin` is not on PATH.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lakehouse_resources.processes import die_with_parent

LAUNCHER_NAME = "lakehouse-dbt"
# The pid of the process that starts dbt. The launcher cannot trust its own `getppid()`: if that
# process is killed while the launcher's interpreter is still starting, it already reads init's pid.
PARENT_PID_ENV = "LAKEHOUSE_DBT_PARENT_PID"


def dbt_executable() -> str:
    """The launcher next to this interpreter (installed by the lakehouse-resources package)."""
    return str(Path(sys.executable).parent / LAUNCHER_NAME)


def mark_parent() -> None:
    """Call just before starting dbt: name this process as the one dbt must die with."""
    os.environ[PARENT_PID_ENV] = str(os.getpid())


def main() -> None:
    expected = os.environ.get(PARENT_PID_ENV)
    # Sets the parent-death signal, then exits at once when the parent is already gone.
    die_with_parent(int(expected) if expected else os.getppid())()
    from dbt.cli.main import cli

    sys.exit(cli())
