"""Child processes that die with their parent.

Everything the project starts (dbt, stand-in tasks, the local Spark JVM, `dagster dev`) goes
through `start_child`, so a `kill -9` of the parent leaves nothing running that holds the DuckDB
lock or a port: the child gets its own process group (cancel kills the whole group) and, on Linux,
a parent-death signal.

The kernel sends the parent-death signal when the *thread* that forked the child exits, not the
process: start long-lived children (a server) from a long-lived thread, and short ones from the
thread that waits for them.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import IO, Any

_PR_SET_PDEATHSIG = 1
_KILL_GRACE_SECONDS = 2.0


@cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, resolved in the parent: a dlopen between fork and exec can deadlock on a loader
    lock that another thread held at fork time (the stand-ins fork from many threads)."""
    return ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def die_with_parent(parent_pid: int, death_signal: int | None = signal.SIGKILL) -> Callable[[], None]:
    """What a child runs first: default SIGINT/SIGTERM, and `death_signal` when `parent_pid` dies."""
    prctl = _prctl() if death_signal is not None else None

    def prepare() -> None:
        # A shell's background jobs start with SIGINT/SIGTERM ignored; children must be stoppable.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        if prctl is not None and death_signal is not None:
            prctl(_PR_SET_PDEATHSIG, int(death_signal))
            # The parent may have died between fork and prctl: then nobody would signal us.
            if os.getppid() != parent_pid:
                os._exit(1)

    return prepare


def start_child(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    own_group: bool = True,
    parent_death_signal: int | None = signal.SIGKILL,
) -> subprocess.Popen[bytes]:
    """Popen that ties the child's life to ours; `own_group` puts it in a new session and group.

    `parent_death_signal=SIGTERM` lets a child that owns children of its own (`dagster dev`) shut
    them down; None is only for a server that stops itself once its users are gone.
    """
    return subprocess.Popen(
        list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdout=stdout,
        stderr=stderr,
        start_new_session=own_group,
        preexec_fn=die_with_parent(os.getpid(), parent_death_signal),
    )


def stop_group(process: subprocess.Popen[Any], grace: float = _KILL_GRACE_SECONDS) -> None:
    """SIGTERM the child's group, then SIGKILL whatever is left: a child may ignore SIGTERM."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
