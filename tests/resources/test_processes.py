"""Children started through start_child die with their parent, even on kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def test_child_dies_when_parent_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    parent_code = textwrap.dedent(
        f"""
        import sys, time
        from lakehouse_resources.processes import start_child
        child = start_child([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    deadline = time.monotonic() + 120
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the parent never started its child"
        time.sleep(0.05)
    child_pid = int(pid_file.read_text())
    assert _alive(child_pid)

    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid), "the child outlived its killed parent"


def test_stop_group_kills_a_child_that_ignores_sigterm() -> None:
    from lakehouse_resources.processes import start_child, stop_group

    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"
    child = start_child([sys.executable, "-c", code])
    time.sleep(0.3)
    stop_group(child, grace=0.5)
    assert child.returncode == -signal.SIGKILL


def test_the_dbt_launcher_exits_when_its_parent_is_already_gone() -> None:
    """A launcher whose starter died before it set its death signal must not run dbt orphaned."""
    from lakehouse_resources.dbt_launcher import PARENT_PID_ENV, dbt_executable

    env = {**os.environ, PARENT_PID_ENV: str(os.getpid())}
    mine = subprocess.run([dbt_executable(), "--version"], env=env, capture_output=True, text=True)
    assert mine.returncode == 0, mine.stderr
    assert "dbt" in mine.stdout.lower()

    # As if the process that started it had died: its parent is no longer the one named.
    orphaned = subprocess.run(
        [dbt_executable(), "--version"], env={**env, PARENT_PID_ENV: "1"}, capture_output=True, text=True
    )
    assert orphaned.returncode == 1
    assert "core" not in orphaned.stdout.lower()
