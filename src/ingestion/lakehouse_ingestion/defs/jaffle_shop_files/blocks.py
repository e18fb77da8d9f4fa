"""Fingerprints of a file's prefix: SHA-256 per fixed block, hashed on both cores.

Fixed block boundaries make a prefix's digests a prefix of the grown file's digests, so after an
append only the last partial block and the new bytes are hashed again; hashlib releases the GIL,
so two threads hash two blocks at once.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Small enough that re-hashing the last partial block after an append is cheap (<= 4 MiB), large
# enough that a 10M-row file has ~80 digests in its state row.
BLOCK = 4 << 20


def _digest(fd: int, start: int, end: int) -> str:
    return hashlib.sha256(os.pread(fd, end - start, start)).hexdigest()


def block_digests(path: Path, size: int, known: list[str] | None = None, known_size: int = 0) -> list[str]:
    """Digests of `path[:size]` per block; complete blocks of an already verified prefix are reused."""
    reuse = (known_size // BLOCK) if known else 0
    starts = range(reuse * BLOCK, size, BLOCK)
    fd = os.open(path, os.O_RDONLY)
    try:
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            fresh = list(pool.map(lambda start: _digest(fd, start, min(start + BLOCK, size)), starts))
    finally:
        os.close(fd)
    return [*(known or [])[:reuse], *fresh]


def last_byte(path: Path, size: int) -> bytes:
    """The byte before offset `size`: an append continues a file only after a complete line."""
    if size == 0:
        return b""
    with path.open("rb") as fh:
        fh.seek(size - 1)
        return fh.read(1)


def count_lines(path: Path, size: int) -> int:
    """Newlines in `path[:size]`; only needed to name the line of a rejected appended row."""
    lines = 0
    with path.open("rb") as fh:
        while size > 0 and (chunk := fh.read(min(BLOCK, size))):
            lines += chunk.count(b"\n")
            size -= len(chunk)
    return lines
