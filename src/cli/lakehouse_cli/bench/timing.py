"""Interleaved repetitions: every case runs once per round, in a rotating order, so a noisy
neighbour on a 2-core machine slows all cases alike instead of one."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence

# A case does its own untimed set-up and returns the seconds of the part being measured.
Case = Callable[[], float]


def interleaved(cases: Mapping[str, Case], repeat: int, warmup: bool = True) -> dict[str, list[float]]:
    names = list(cases)
    if warmup:  # page cache, .pyc files and dbt's partial parse are warm for every timed round
        for name in names:
            cases[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(cases[name]())
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def python_case(code: str, env: Mapping[str, str] | None = None, cpu: list[float] | None = None) -> Case:
    """Wall time of a fresh interpreter running `code`: imports and start-up included, as a code
    server or run worker pays them. With `cpu`, each run's CPU seconds (user + system of the child
    and whatever it waited for) are appended to it as well: on a shared 2-core machine they move
    far less with the neighbours' load than wall time does."""

    def case() -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = timed(lambda: subprocess.run([sys.executable, "-c", code], check=True, env=env))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if cpu is not None:
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return seconds

    return case


def summarize(times: Mapping[str, Sequence[float]], baseline: str, **extra: object) -> dict[str, object]:
    """The result every benchmark reports: raw times, medians, and ratios to `baseline`'s median."""
    base = median(times[baseline])
    return {
        "times": {name: list(values) for name, values in times.items()},
        "baseline": baseline,
        **extra,
        "medians": {name: median(values) for name, values in times.items()},
        "ratios": {name: median(values) / base for name, values in times.items()},
    }
