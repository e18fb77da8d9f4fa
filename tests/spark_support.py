"""One local Spark Connect server for the whole test session (a JVM start costs 7-10 s).

`spark_runtime` is the stand-in's own `SparkRuntime`, so tests exercise the server the stand-in
runs; `spark_remote` is its `sc://` URL (give it to a stand-in or a child process as SPARK_REMOTE);
`spark` is a Connect session on it. Tests share the server: give tables names of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from lakehouse_standins.databricks.spark_runtime import SparkRuntime
from pyspark.sql import SparkSession


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="session")
def spark_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkRuntime]:
    runtime = SparkRuntime(tmp_path_factory.mktemp("spark"))
    runtime.start()
    try:
        yield runtime
    finally:
        pid = runtime.pid
        runtime.stop()
        assert pid is None or not pid_alive(pid), f"the test session's Spark server (pid {pid}) outlived it"


@pytest.fixture(scope="session")
def spark_remote(spark_runtime: SparkRuntime) -> str:
    return spark_runtime.remote()


@pytest.fixture(scope="session")
def spark(spark_remote: str) -> Iterator[SparkSession]:
    # create(), not getOrCreate(): a default session some earlier test left (perhaps released since)
    # must not stand in for this one.
    session = SparkSession.builder.remote(spark_remote).create()
    try:
        yield session
    finally:
        session.stop()
