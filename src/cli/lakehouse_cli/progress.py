"""What `task pipeline` prints while a run goes: one line per step as it starts and as it ends
(a progress count, the step, its assets with their rows, seconds); the whole event log goes to a
file, and to the console with `--verbose`."""

from __future__ import annotations

import ast
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TextIO

import dagster as dg


def event_line(entry: dg.EventLogEntry) -> str:
    """One event log entry as a log line: time, level, step, message."""
    when = datetime.fromtimestamp(entry.timestamp).strftime("%H:%M:%S.%f")[:-3]
    level = logging.getLevelName(entry.level)
    event = entry.dagster_event
    kind = event.event_type_value if event else "LOG"
    message = entry.user_message or (event.message if event else "") or ""
    return f"{when} {level:<7} {entry.step_key or '-'} {kind} {message}"


def error_text(event: dg.DagsterEvent) -> str:
    """A failed step's own error, whole: Dagster's wrapper says only which op raised it."""
    data = event.step_failure_data
    if data is None:
        return event.message or "unknown error"
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    if error is None:
        return event.message or "unknown error"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _rows(metadata: dict[str, dg.MetadataValue]) -> str:
    for key in ("dagster/row_count", "rows_loaded"):
        if key in metadata and isinstance(metadata[key].value, int | float):
            return f"{int(metadata[key].value):,} rows"  # type: ignore[arg-type]
    return "-"


class StepProgress:
    """Turns runs' events into start and end lines, counting steps against the plan: `total` when
    given (the steps of several runs at once), else the one run's plan."""

    def __init__(self, say: Callable[[str], None], total: int | None = None) -> None:
        self._say = say
        self._total = total
        self._numbers: dict[str, int] = {}
        self._started: dict[str, float] = {}
        self._assets: dict[str, list[str]] = {}
        self._lock = threading.Lock()  # concurrent runs report from their own threads

    def _count(self, step: str) -> str:
        number = self._numbers.setdefault(step, len(self._numbers) + 1)
        total = self._total or len(self._numbers)
        return f"[{number:>{len(str(total))}}/{total}]"

    def handle(self, entry: dg.EventLogEntry) -> None:
        with self._lock:
            self._handle(entry)

    def _handle(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key or ""
        kind = event.event_type
        if kind == dg.DagsterEventType.ENGINE_EVENT and self._total is None:
            keys = event.engine_event_data.metadata.get("step_keys")
            if keys is not None:
                self._total = len(ast.literal_eval(str(keys.value)))
        elif kind == dg.DagsterEventType.STEP_START:
            self._started[step] = entry.timestamp
            self._say(f"{self._count(step)} start   {step}")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION and event.asset_key:
            rows = _rows(dict(event.step_materialization_data.materialization.metadata))
            self._assets.setdefault(step, []).append(f"{event.asset_key.to_user_string()} {rows}")
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            seconds = entry.timestamp - self._started.get(step, entry.timestamp)
            status = "done  " if kind == dg.DagsterEventType.STEP_SUCCESS else "FAILED"
            assets = ", ".join(self._assets.get(step, [])) or "no asset"
            self._say(f"{self._count(step)} {status}  {step}  {seconds:.1f} s  {assets}")
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self._say(f"{self._count(step)} skipped {step} (an upstream step failed)")


@contextmanager
def output_to_log(log: TextIO) -> Iterator[TextIO]:
    """Send this process's stdout and stderr (dbt's log, warnings, child processes) to `log` and
    yield the console, so only the progress lines reach the terminal."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    console = open(os.dup(saved[1]), "w", buffering=1)  # noqa: SIM115 - closed below
    streams = sys.stdout, sys.stderr
    try:
        for fd in saved:
            os.dup2(log.fileno(), fd)
        # Python-level writers too, for when sys.stdout is not fd 1 (a test's capture).
        sys.stdout = sys.stderr = log
        yield console
    finally:
        sys.stdout, sys.stderr = streams
        for stream in streams:
            stream.flush()
        for fd, original in saved.items():
            os.dup2(original, fd)
            os.close(original)
        console.close()
