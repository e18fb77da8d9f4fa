"""Heaviest test files first, so the last file pytest-xdist hands out is a short one.

xdist (`--dist loadfile --no-loadscope-reorder`) gives files to its workers in collection order
(without the flag it orders them by their count of tests: one five-minute test last); a five-minute
file handed out last leaves the other worker idle for five minutes. A file's weight is what its tests took when
they last ran here (each test's seconds, kept in pytest's own cache, `.pytest_cache`), plus, for
tests that never ran here (a fresh clone), an estimate from the heaviest marker among them. The sort is stable, so a
file's own order holds and files of equal weight keep theirs.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

CACHE_KEY = "lakehouse/test_seconds"
# A whole pipeline, a benchmark run or a browser takes minutes; a JVM or a server, tens of seconds.
ESTIMATES = {"slow": 120.0, "browser": 120.0, "spark": 30.0, "databricks_cli": 30.0, "postgres": 30.0}
OTHER_TEST = 1.0

_ran: dict[str, float] = defaultdict(float)


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _estimate(item: pytest.Item) -> float:
    return max((ESTIMATES.get(mark.name, OTHER_TEST) for mark in item.iter_markers()), default=OTHER_TEST)


@pytest.hookimpl(trylast=True)  # after conftest has marked the tests that use the session's Spark
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cache = getattr(config, "cache", None)  # None under `-p no:cacheprovider`
    known: dict[str, float] = cache.get(CACHE_KEY, {}) if cache else {}
    measured: dict[str, float] = defaultdict(float)
    estimated: dict[str, float] = defaultdict(float)
    for item in items:
        file = _file(item.nodeid)
        if item.nodeid in known:
            measured[file] += known[item.nodeid]
        else:  # the file's heaviest kind of test: a count of tests says little about their weight
            estimated[file] = max(estimated[file], _estimate(item))
    weight = {file: measured[file] + estimated[file] for file in {*measured, *estimated}}
    items.sort(key=lambda item: -weight[_file(item.nodeid)])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _ran[report.nodeid] += report.duration  # set-up, call and tear-down


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under xdist every report reaches the controller too; it alone writes the cache.
    cache = getattr(session.config, "cache", None)
    if hasattr(session.config, "workerinput") or cache is None or not _ran:
        return
    cache.set(CACHE_KEY, {**cache.get(CACHE_KEY, {}), **{k: round(v, 2) for k, v in _ran.items()}})
