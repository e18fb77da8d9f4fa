"""Runs whose process is gone: give their pool slots back and mark them failed.

A run killed with `kill -9` never frees the `duckdb_warehouse` slot it claimed, and Dagster only
reclaims slots of runs it sees finish; the next run would wait for it forever. Every run's
orchestrating process records its pid in an engine event ("Executing steps in process (pid: N)"),
so a run that is not finished, whose process no longer exists, is known dead.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def process_alive(pid: int, not_started_after: float) -> bool:
    """Whether `pid` is a live process that already existed at `not_started_after` (a reused pid
    belongs to a newer process, and a zombie is dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: fall back to signal 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    fields = stat.rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
    if fields[0] in ("Z", "X"):
        return False
    started = _boot_time() + int(fields[19]) / _CLOCK_TICKS
    return started <= not_started_after + 1.0


def run_process(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of the process that executes the run's steps, and when it said so."""
    records = instance.get_records_for_run(
        run_id=run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.engine_event_data if event else None
        pid = data.metadata.get("pid") if data else None
        if pid is not None:
            return int(str(pid.value)), record.event_log_entry.timestamp
    return None


def reclaim_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Free the pool slots (claimed or waited for) of runs that can no longer release them; one
    line per run reclaimed."""
    storage = instance.event_log_storage
    reclaimed = []
    for run_id in sorted(storage.get_concurrency_run_ids()):
        run = instance.get_run_by_id(run_id)
        if run is None:
            continue
        if run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            reclaimed.append(f"freed the pool slots left by finished run {run_id}")
            continue
        process = run_process(instance, run_id)
        if process is None or process_alive(*process):
            continue
        pid = process[0]
        instance.report_run_failed(
            run, f"Process {pid} running this run is gone (killed); its pool slots were freed."
        )
        storage.free_concurrency_slots_for_run(run_id)
        reclaimed.append(f"run {run_id} died with its process {pid}: marked failed, pool slots freed")
    return reclaimed
