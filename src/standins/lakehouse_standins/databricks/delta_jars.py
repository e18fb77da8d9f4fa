"""Delta Lake's Spark jars, resolved once from Maven Central into `.lakehouse/spark-packages/`.

The pair is pinned by Delta's compatibility table: delta-spark 4.4.0 is built for Spark 4.2, the
Spark line of Databricks Runtime 19 (pyspark 4.2.0 in the workspace's pyproject). Spark's own
package resolution (`spark-submit --packages`, Ivy) fetches the jar and its dependencies once; the
list of jars it resolved is written next to them, and every later start names those files in
`spark.jars`, so it never asks the network again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from lakehouse_resources.locks import exclusive

DELTA_VERSION = "4.4.0"
DELTA_PACKAGE = f"io.delta:delta-spark_4.2_2.13:{DELTA_VERSION}"
# The Spark settings that make Delta a session's catalog and its default table format, as on a workspace.
DELTA_CONFS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.sources.default": "delta",
}
_RESOLVE_TIMEOUT_SECONDS = 900
_MANIFEST = "jars.txt"
_VERSIONED_JAR = re.compile(r"^(.+?)-\d[\w.\-]*\.jar$")


class DeltaJarsUnavailable(RuntimeError):
    """The jars are not cached and could not be fetched; the message says what to do, in one line."""


def default_cache() -> Path:
    from lakehouse_resources.paths import repo_root

    return repo_root() / ".lakehouse" / "spark-packages"


def cached_jars(cache: Path) -> list[Path] | None:
    """The jars resolved earlier, or None when they were never resolved or a file has gone."""
    manifest = cache / f"delta-{DELTA_VERSION}" / _MANIFEST
    try:
        jars = [Path(line) for line in manifest.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return None
    return jars if jars and all(jar.is_file() for jar in jars) else None


def delta_jars(cache: Path | None = None, *, spark_submit: Path, env: dict[str, str]) -> list[Path]:
    """The cached jars, resolving them first if needed (one process at a time, under a file lock)."""
    cache = Path(cache or default_cache()).absolute()
    if found := cached_jars(cache):
        return found
    folder = cache / f"delta-{DELTA_VERSION}"
    with exclusive(folder / ".lock"):  # a second process waits, then finds the manifest
        if found := cached_jars(cache):
            return found
        return _resolve(folder, spark_submit, env)


def _resolve(folder: Path, spark_submit: Path, env: dict[str, str]) -> list[Path]:
    ivy = folder / "ivy"
    noop = folder / "resolve.py"
    noop.write_text("# spark-submit resolves --packages before it runs this empty script\n")
    command = [str(spark_submit), "--packages", DELTA_PACKAGE, "--conf", f"spark.jars.ivy={ivy}", str(noop)]
    hint = (
        f"Delta Lake's Spark jars ({DELTA_PACKAGE}) are not in {folder} and could not be fetched from"
        " Maven Central: connect to the network and run `uv run task tools`"
    )
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=_RESOLVE_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DeltaJarsUnavailable(f"{hint} ({exc})") from exc
    jars = sorted((ivy / "jars").glob("*.jar"))
    if done.returncode != 0 or not any(jar.name.startswith("io.delta_delta-spark") for jar in jars):
        reason = _last_error(done.stderr)
        raise DeltaJarsUnavailable(f"{hint} ({reason})" if reason else hint)
    needed = not_in_spark(jars, spark_submit.parent.parent / "jars")
    partial = folder / f".{_MANIFEST}.tmp"
    partial.write_text("".join(f"{jar}\n" for jar in needed))
    os.replace(partial, folder / _MANIFEST)
    shutil.rmtree(ivy / "cache", ignore_errors=True)  # a second copy of the same jars
    return needed


def _artifact(jar: Path) -> str:
    """`com.fasterxml.jackson.core_jackson-core-2.13.5.jar` (Ivy) and `jackson-core-2.18.2.jar`
    (Spark's folder) both name the artifact `jackson-core`."""
    match = _VERSIONED_JAR.match(jar.name.split("_", 1)[-1])
    return match.group(1) if match else jar.stem


def not_in_spark(jars: list[Path], spark_jars: Path) -> list[Path]:
    """The resolved jars whose artifact Spark does not ship: Spark's own copy is loaded first anyway
    (parent-first class loading), so a second, older one only lengthens the class path."""
    shipped = {_artifact(jar) for jar in spark_jars.glob("*.jar")}
    return [jar for jar in jars if _artifact(jar) not in shipped]


def _last_error(stderr: str) -> str:
    """Ivy's first access error names the cause (refused, unknown host); else its unresolved line."""
    lines = [line.strip() for line in stderr.splitlines()]
    for marker in ("Server access error", "unresolved dependency", "Exception"):
        found = next((line for line in lines if marker in line), None)
        if found:
            return found[:300]
    return ""
