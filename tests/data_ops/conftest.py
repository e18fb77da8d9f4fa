"""One local Spark Connect server for every test in this folder (a JVM start costs 7-10 s here).

Temporary: replaced by the shared `spark` fixture of the local Databricks runtime once it lands.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyspark
import pytest
from lakehouse_resources.processes import start_child, stop_group
from testsupport import free_port

_START_TIMEOUT_SECONDS = 120


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def spark_remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's `sc://` URL, for child processes (`spark-pipelines`) that connect themselves."""
    home = Path(pyspark.__file__).parent
    state = tmp_path_factory.mktemp("spark")
    port = free_port()
    command = [
        str(home / "bin" / "spark-submit"),
        "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master", "local[2]",
        "--driver-memory", "1g",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.shuffle.partitions=2",
        "--conf", "spark.sql.catalogImplementation=hive",
        "--conf", f"spark.sql.warehouse.dir={state / 'warehouse'}",
        "--conf", f"spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName={state / 'metastore_db'};create=true",
        "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={state}",
    ]  # fmt: skip
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable}
    with (state / "server.log").open("wb") as log:
        server = start_child(command, env=env, cwd=state, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not _listening(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Spark Connect did not start: {(state / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        stop_group(server)
        assert server.poll() is not None, "the Spark Connect server outlived the test session"


@pytest.fixture(scope="session")
def spark(spark_remote: str) -> Iterator[object]:
    from pyspark.sql import SparkSession

    session = SparkSession.builder.remote(spark_remote).getOrCreate()
    yield session
    session.stop()
