"""The stand-in's local Spark: a Connect server on loopback with a persistent Hive catalog."""

import time
from pathlib import Path

import pytest
from lakehouse_standins.databricks.spark_runtime import (
    SparkRuntime,
    SparkUnavailable,
    clear_unfinished_metastore,
)
from pyspark.errors import AnalysisException


def listening_addresses(pid: int) -> set[str]:
    """Local addresses of the process's listening TCP sockets, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = str(fd.readlink()) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add(fields[1].rsplit(":", 1)[0])
    return found


def test_the_server_answers_three_part_names_and_listens_only_on_loopback(spark, spark_runtime) -> None:
    spark.sql("create database if not exists spark_catalog.main_runtime_test")
    spark.range(3).write.mode("overwrite").saveAsTable("spark_catalog.main_runtime_test.numbers")

    assert spark.table("spark_catalog.main_runtime_test.numbers").count() == 3
    assert spark_runtime.pid is not None
    addresses = listening_addresses(spark_runtime.pid)
    assert addresses, "the Spark server listens on nothing"
    # IPv4 127.0.0.1 is 0100007F in /proc; IPv6 ::ffff:127.0.0.1 ends in it.
    assert all(address.endswith("0100007F") for address in addresses), addresses


def test_a_missing_table_is_spark_s_analysis_error_and_the_server_survives(spark) -> None:
    with pytest.raises(AnalysisException) as raised:
        spark.table("spark_catalog.main_runtime_test.missing").count()

    assert raised.value.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"
    assert spark.range(2).count() == 2


def test_without_java_the_runtime_says_what_to_install(tmp_path) -> None:
    runtime = SparkRuntime(tmp_path / "spark", java_env={"PATH": str(tmp_path)})

    with pytest.raises(SparkUnavailable, match="apt-get install openjdk-17-jre-headless"):
        runtime.remote(timeout=30)
    runtime.stop()
    assert runtime.pid is None


def test_a_standin_told_to_wait_starts_no_jvm_until_a_spark_task(tmp_path) -> None:
    from lakehouse_standins.databricks import DatabricksStandin
    from lakehouse_standins.databricks.sample import write_sample_warehouse

    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    with DatabricksStandin(
        tmp_path / "standin", warehouse, spark_dir=tmp_path / "spark", spark_at_start=False
    ) as standin:
        # `task dev`: the code servers load first; the JVM would take 7-10 s of CPU from them.
        time.sleep(1.0)  # an eager start launches its JVM well within this
        assert standin.spark.pid is None
        assert not (tmp_path / "spark" / "server.log").exists()


def test_a_metastore_whose_creation_was_killed_is_recreated_and_a_finished_one_kept(tmp_path: Path) -> None:
    # A stand-in killed during its first Spark start left this; Derby refuses it ("exists. However,
    # it does not contain the expected 'service.properties' file") and every later start failed.
    interrupted = tmp_path / "interrupted" / "metastore_db"
    (interrupted / "seg0").mkdir(parents=True)
    finished = tmp_path / "finished" / "metastore_db"
    (finished / "seg0").mkdir(parents=True)
    (finished / "service.properties").write_text("derby\n")

    note = clear_unfinished_metastore(interrupted)

    assert note is not None
    assert "creation was interrupted" in note
    assert not interrupted.exists()
    assert clear_unfinished_metastore(finished) is None
    assert (finished / "seg0").is_dir()
