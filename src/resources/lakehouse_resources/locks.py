"""One process at a time: an exclusive lock on a file, for the length of a block."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold `lock_file` (made, with its folder, when missing) exclusively for the block; another
    process asking for it waits. The kernel releases it when the file closes, or the process dies."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
