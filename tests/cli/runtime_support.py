"""Helpers for the tests that kill, signal and count processes of `lakehouse` commands."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from lakehouse_resources.pools import WAREHOUSE_POOL
from testsupport import REPO

# The jaffle shop chain: files, dbt, the Python segments; no stand-in work, no Spark.
JAFFLE_SHOP_CHAIN = '+key:"analytics/customer_segments"'

# `lakehouse dev`'s code locations, and the UI's GraphQL query of their load status.
LOCATIONS = {"ingestion", "transformation", "downstream", "domains"}
LOCATIONS_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


def lakehouse(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """`lakehouse <args>` in its own session (so a test can signal it alone), output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "lakehouse_cli.main", *args],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(condition: Callable[[], object], what: str, timeout: float = 300.0) -> object:
    """Poll until `condition()` is truthy; a hang fails the test instead of blocking it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def state(pid: int) -> str | None:
    """The process's state letter, None when it no longer exists."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def alive(pid: int) -> bool:
    return state(pid) not in (None, "Z", "X")


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if ppid == pid:
            found.append((int(entry.name), cmdline))
    return found


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        for child, _ in children(frontier.pop()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def killed_or_doomed(pid: int) -> bool:
    """Gone, a zombie, or with SIGKILL pending: a parent-death signal has reached it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    if fields.get("State", "").startswith(("Z", "X")):
        return True
    sigkill = 1 << (9 - 1)
    return any(int(fields.get(name, "0").strip(), 16) & sigkill for name in ("SigPnd", "ShdPnd"))


def pool_info(instance: dg.DagsterInstance):
    return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)


def hold_the_pool(instance: dg.DagsterInstance, holder: str = "test-holder") -> str:
    """Take the warehouse pool's only slot as a run the instance does not know (so nobody
    reclaims it), making every run that needs the warehouse wait."""
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    status = storage.claim_concurrency_slot(WAREHOUSE_POOL, holder, "hold")
    assert status.is_claimed, status
    return holder


def release_the_pool(instance: dg.DagsterInstance, holder: str = "test-holder") -> None:
    instance.event_log_storage.free_concurrency_slots_for_run(holder)


def runs_waiting(instance: dg.DagsterInstance) -> set[str]:
    return pool_info(instance).pending_run_ids


def stop(proc: subprocess.Popen[bytes]) -> tuple[int | None, set[int]]:
    """Ctrl-C `lakehouse dev` (SIGINT, as a terminal sends it); its exit code and whichever of its
    processes (dagster dev, webserver, daemon, code servers, stand-ins) outlived it."""
    family = descendants(proc.pid)
    os.kill(proc.pid, signal.SIGINT)
    try:
        code: int | None = proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        code = None
    with contextlib.suppress(AssertionError):
        wait_for(lambda: not any(alive(pid) for pid in family), "every child to stop", 60)
    survivors = {pid for pid in family if alive(pid)}
    for pid in survivors | ({proc.pid} if code is None else set()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()
    return code, survivors
