"""Delta Lake's jars: resolved once, then found offline; an unfetchable jar fails in one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lakehouse_standins.databricks.delta_jars import (
    DELTA_PACKAGE,
    DeltaJarsUnavailable,
    cached_jars,
    delta_jars,
    not_in_spark,
)


def _fake_spark_submit(tmp_path: Path, script: str) -> Path:
    """A spark-submit stand-in for what Ivy does: the real one would need the network."""
    home = tmp_path / "spark_home"
    (home / "bin").mkdir(parents=True)
    (home / "jars").mkdir()
    (home / "jars" / "jackson-core-2.18.2.jar").write_text("spark's own")
    tool = home / "bin" / "spark-submit"
    tool.write_text("#!/bin/sh\n" + script)
    tool.chmod(0o755)
    return tool


# Writes two jars where `--conf spark.jars.ivy=<dir>` says, counting its calls in calls.txt.
_RESOLVES = """
ivy=$(printf '%s\\n' "$@" | sed -n 's/^spark.jars.ivy=//p')
mkdir -p "$ivy/jars" && echo x >> "$(dirname "$0")/calls.txt"
touch "$ivy/jars/io.delta_delta-spark_4.2_2.13-4.4.0.jar" "$ivy/jars/com.fasterxml.jackson.core_jackson-core-2.13.5.jar"
"""


def test_jars_are_resolved_once_and_then_found_without_spark_submit(tmp_path: Path) -> None:
    tool = _fake_spark_submit(tmp_path, _RESOLVES)
    cache = tmp_path / "cache"
    first = delta_jars(cache, spark_submit=tool, env=dict(os.environ))
    # Spark ships its own jackson-core, loaded first anyway: only Delta's jar is named.
    assert [jar.name for jar in first] == ["io.delta_delta-spark_4.2_2.13-4.4.0.jar"]
    tool.unlink()  # offline from now on: nothing may run spark-submit again
    assert delta_jars(cache, spark_submit=tool, env=dict(os.environ)) == first
    assert cached_jars(cache) == first


def test_a_cached_jar_that_went_missing_is_resolved_again(tmp_path: Path) -> None:
    tool = _fake_spark_submit(tmp_path, _RESOLVES)
    cache = tmp_path / "cache"
    [jar] = delta_jars(cache, spark_submit=tool, env=dict(os.environ))
    jar.unlink()
    assert cached_jars(cache) is None
    assert delta_jars(cache, spark_submit=tool, env=dict(os.environ)) == [jar]
    assert (tool.parent / "calls.txt").read_text().count("x") == 2


def test_unfetchable_jars_fail_in_one_line_saying_what_to_do(tmp_path: Path) -> None:
    offline = "echo ':: problems summary :: UNRESOLVED DEPENDENCIES' >&2; echo 'Server access error at url https://repo1.maven.org/ (java.net.UnknownHostException)' >&2; exit 1"
    tool = _fake_spark_submit(tmp_path, offline)
    with pytest.raises(DeltaJarsUnavailable) as raised:
        delta_jars(tmp_path / "cache", spark_submit=tool, env=dict(os.environ))
    message = str(raised.value)
    assert "\n" not in message
    assert DELTA_PACKAGE in message
    assert "uv run task tools" in message
    assert "UnknownHostException" in message
    assert cached_jars(tmp_path / "cache") is None  # nothing half-written is taken for a cache


def test_jars_spark_ships_are_left_out_whatever_their_version(tmp_path: Path) -> None:
    spark_jars = tmp_path / "jars"
    spark_jars.mkdir()
    for name in ("jackson-core-2.18.2.jar", "hadoop-client-api-3.4.2.jar"):
        (spark_jars / name).touch()
    resolved = [
        Path("com.fasterxml.jackson.core_jackson-core-2.13.5.jar"),
        Path("org.apache.hadoop_hadoop-client-api-3.4.2.jar"),
        Path("io.delta_delta-storage-4.4.0.jar"),
        Path("com.fasterxml.jackson.datatype_jackson-datatype-jdk8-2.13.5.jar"),
    ]
    assert [jar.name for jar in not_in_spark(resolved, spark_jars)] == [
        "io.delta_delta-storage-4.4.0.jar",
        "com.fasterxml.jackson.datatype_jackson-datatype-jdk8-2.13.5.jar",
    ]


@pytest.mark.spark  # runs spark-submit (a JVM): not in the inner loop
def test_offline_spark_package_resolution_says_why_in_one_line(tmp_path: Path) -> None:
    """Real spark-submit and Ivy, with Maven Central unreachable (a proxy on a closed port)."""
    from lakehouse_standins.databricks.spark_runtime import SparkUnavailable, require_delta_jars

    env = dict(os.environ)
    proxies = [
        f"-D{scheme}.proxy{key}={value}"
        for scheme in ("http", "https")
        for key, value in (("Host", "127.0.0.1"), ("Port", "9"))
    ]
    # An empty home: no ~/.m2 or ~/.ivy2 from another project may answer for Maven Central.
    env["JAVA_TOOL_OPTIONS"] = " ".join([*proxies, f"-Duser.home={tmp_path}"])
    with pytest.raises(SparkUnavailable) as raised:
        require_delta_jars(tmp_path / "cache", env)
    message = str(raised.value)
    assert "\n" not in message
    assert "uv run task tools" in message
    assert "Server access error at url https://repo1.maven.org" in message
