"""What the stand-in keeps across restarts: one SQLite file of JSON records and id sequences.

A workspace keeps its runs, jobs and pipelines, and Dagster keeps their links, so the stand-in
writes each record when it changes (`put`) and reads them all back when it starts (`load`). Each
write is its own transaction: a stand-in killed at any moment leaves every record as last written.
Ids come from sequences stored beside them, so a restarted stand-in never hands out an old id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
create table if not exists records (
    kind text not null, key text not null, parent text, body text not null, primary key (kind, key)
);
create table if not exists sequences (name text primary key, last integer not null);
"""


class Store:
    """Records by kind and key (a parent lets a pipeline's events go with it); thread-safe."""

    def __init__(self, path: Path | None) -> None:
        """`path` None keeps everything in memory (nothing survives the process)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path or ":memory:"), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._closed = False
        with self._lock:
            self._db.execute("pragma journal_mode=wal")
            self._db.executescript(_SCHEMA)

    def put(self, kind: str, key: object, body: dict[str, Any], parent: object = None) -> None:
        text = json.dumps(body, default=str)
        with self._lock:
            if self._closed:  # a run thread that outlived its stopped stand-in: the restart ends it
                return
            self._db.execute(
                "insert into records (kind, key, parent, body) values (?, ?, ?, ?) on conflict (kind, key)"
                " do update set parent = excluded.parent, body = excluded.body",
                (kind, str(key), None if parent is None else str(parent), text),
            )

    def remove(self, kind: str, key: object) -> None:
        with self._lock:
            if not self._closed:
                self._db.execute("delete from records where kind = ? and key = ?", (kind, str(key)))

    def remove_children(self, kind: str, parent: object) -> None:
        with self._lock:
            if not self._closed:
                self._db.execute("delete from records where kind = ? and parent = ?", (kind, str(parent)))

    def load(self, kind: str) -> Iterator[dict[str, Any]]:
        """Every record of `kind`, in the order they were first written."""
        with self._lock:
            rows = self._db.execute(
                "select body from records where kind = ? order by rowid", (kind,)
            ).fetchall()
        return (json.loads(body) for (body,) in rows)

    def next_id(self, name: str, first: int) -> int:
        """The sequence's next id: `first` the first time, then one more than the last, for ever."""
        with self._lock:
            (last,) = self._db.execute(
                "insert into sequences (name, last) values (?, ?)"
                " on conflict (name) do update set last = last + 1 returning last",
                (name, first),
            ).fetchone()
        return int(last)

    def ids(self, name: str, first: int) -> Iterator[int]:
        """`next_id` as an iterator, where the code takes ids with `next(...)`."""
        return iter(lambda: self.next_id(name, first), None)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()
