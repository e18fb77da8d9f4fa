"""Member and claims from generated feeds to gold: through Dagster and the stand-in vs directly on Spark,
against one hand-written Spark job and DuckDB.

The domains' two paths run the same bundle code on one Spark Connect server over the same landed feeds:
- `direct`: each layer's pipeline with `spark-pipelines run`, each gold job as a Python process;
- `dagster`: the bundle deployed to the stand-in, the `member` and `claims` assets materialized
  in-process (pipeline updates and job runs through the stand-in's APIs, Pipes, checks).
The peers compute the same gold tables from the same files (`medallion_peers.py`):
- `spark_job`: one hand-written PySpark script on the same server (`medallion_spark_job.py`);
- `duckdb`: SQL over the feed files in DuckDB, for reference.
After the rounds each peer's gold tables must equal the domains' (row count and checksum), or the
benchmark fails naming the table. Figures: wall seconds per case, source rows per second, each case
against the Spark job (`vs_spark_job`), and the peak resident size of the Spark JVM (sampled) and
of the largest child process (the pipeline clients, the gold jobs).
"""

from __future__ import annotations

import resource
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lakehouse_cli.bench.timing import median, summarize, timed

GROUPS = ("member", "claims")
CASES = ("direct", "dagster", "spark_job", "duckdb")


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_while(pid: int | None, fn: Callable[[], object]) -> tuple[float, float]:
    """Seconds `fn` took and the highest resident size of process `pid` meanwhile (MB)."""
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], _rss_mb(pid) if pid else 0.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        seconds = timed(fn)
    finally:
        done.set()
        sampler.join()
    return seconds, peak[0]


def run(
    work: Path,
    rows: int,
    repeat: int,
    groups: tuple[str, ...] = GROUPS,
    cases: tuple[str, ...] = CASES,
    spark_remote: str | None = None,
) -> dict[str, Any]:
    """Both paths and the peers over the domains in `groups` (all of them unless a smoke run asks for
    fewer); `cases` leaves some out (a 10M run without the direct path; the baseline is then the
    first case given). The peers' gold is checked against the domains' when a domain path ran.

    `spark_remote`: a running Spark Connect server to use instead of a Spark of its own, whose
    `member_*` and `claims_*` tables the run overwrites (the JVM's resident size is then not sampled).
    """
    import dagster as dg
    from lakehouse_domains.defs.build import build_domains_defs
    from lakehouse_resources.databricks import databricks_client_from_settings
    from lakehouse_resources.settings import get_settings
    from lakehouse_standins.databricks.sample import write_sample_warehouse
    from lakehouse_standins.local import databricks_standin

    from lakehouse_cli.bench import medallion_direct as direct
    from lakehouse_cli.bench import medallion_peers as peers
    from lakehouse_cli.bench.medallion_feeds import CLAIMS_FEED, MEMBER_FEED, feed_folder, generate
    from lakehouse_cli.bundle import deploy_bundle

    base = get_settings()
    bundle = base.root / "databricks"
    state = work / f"medallion_{rows}"
    settings = get_settings(
        duckdb_path_override=state / "warehouse.duckdb", databricks_standin_port=_free_port()
    )
    state.mkdir(parents=True, exist_ok=True)
    write_sample_warehouse(settings.duckdb_path)
    times: dict[str, list[float]] = {name: [] for name in cases}
    peaks: dict[str, float] = dict.fromkeys(cases, 0.0)
    # The stand-in starts a Spark of its own under `state / "spark"` unless it is given one.
    own_spark = spark_remote is None
    with databricks_standin(settings, settings.databricks_standin_port, spark_remote) as standin:
        remote = standin.spark.remote()
        feeds = generate(standin.volumes_root, rows=rows)
        direct.ensure_schemas(remote)
        client = databricks_client_from_settings(settings).workspace_client()
        deploy_bundle(client, bundle, "local", cli=None, token=None)
        defs = build_domains_defs(settings)
        keys = [k for k in defs.resolve_asset_graph().materializable_asset_keys if k.path[0] in groups]
        assets = list({id(a): a for a in (defs.resolve_assets_def(k) for k in keys)}.values())

        def orchestrated() -> None:
            result = dg.materialize(assets, selection=keys, raise_on_error=False)
            if not result.success:
                raise RuntimeError("the medallion materialization failed; see the Dagster events above")

        member_landing = feed_folder(standin.volumes_root, MEMBER_FEED)
        claims_landing = feed_folder(standin.volumes_root, CLAIMS_FEED)

        def duckdb_peer() -> None:
            import duckdb

            with duckdb.connect(str(state / "peer.duckdb")) as con:
                peers.duckdb_gold(con, member_landing, claims_landing, groups)

        layers: dict[str, list[float]] = {}

        def direct_run() -> None:
            run = direct.run_layers(bundle, standin.volumes_root, remote, state / "direct", domains=groups)
            (state / "direct" / "output.log").write_text(run.output)  # the pipelines' event lines
            for step, seconds in run.seconds.items():  # where the direct path's time goes
                layers.setdefault(step, []).append(seconds)

        every_case = {
            "direct": direct_run,
            "dagster": orchestrated,
            "spark_job": lambda: peers.spark_job(remote, member_landing, claims_landing, groups),
            "duckdb": duckdb_peer,
        }
        chosen = {name: every_case[name] for name in cases}
        for round_ in range(repeat):
            shift = round_ % len(chosen)  # rotating, so no case always runs first (cold) or last
            order = list(chosen)[shift:] + list(chosen)[:shift]
            for name in order:
                seconds, peak = peak_while(standin.spark.pid, chosen[name])
                print(f"  medallion {name}: {seconds:.1f} s", flush=True)
                times[name].append(seconds)
                peaks[name] = max(peaks[name], peak)
        gold = _check_gold(remote, state / "peer.duckdb", groups, cases)
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = summarize(
        times,
        "direct" if "direct" in cases else cases[0],
        source_rows=feeds.source_rows,
        spark_peak_rss_mb=peaks if own_spark else {},
        child_peak_rss_mb=round(children_peak, 1),
        gold=gold,
        direct_steps={step: median(values) for step, values in layers.items()},
    )
    medians: dict[str, float] = result["medians"]  # type: ignore[assignment]
    result["rows_per_second"] = {name: feeds.source_rows / value for name, value in medians.items()}
    if "spark_job" in medians:
        result["vs_spark_job"] = {name: value / medians["spark_job"] for name, value in medians.items()}
    return result


def _check_gold(
    remote: str, duckdb_file: Path, groups: tuple[str, ...], cases: tuple[str, ...]
) -> dict[str, Any]:
    """Each peer's gold tables against the domains': `GoldMismatch` on any difference."""
    if not {"direct", "dagster"} & set(cases) or not {"spark_job", "duckdb"} & set(cases):
        return {}
    import duckdb
    from pyspark.sql import SparkSession

    from lakehouse_cli.bench import medallion_peers as peers

    figures: dict[str, Any] = {}
    spark = SparkSession.builder.remote(remote).create()
    con = duckdb.connect(str(duckdb_file), read_only=True) if "duckdb" in cases else None
    try:
        for domain in groups:
            table = peers.GOLD[domain][0]
            expected = peers.fingerprint_spark(spark, peers.DOMAIN_GOLD[domain], domain)
            if "spark_job" in cases:
                on_spark = peers.fingerprint_spark(spark, f"{peers.PEER_DATABASE}.{table}", domain)
                peers.check_same(expected, on_spark, f"the hand-written Spark job's {table}")
            if con is not None:
                peers.check_same(expected, peers.fingerprint_duckdb(con, table, domain), f"DuckDB's {table}")
            figures[table] = {"rows": expected.rows, "checksum": str(expected.checksum)}
            print(f"  medallion gold {table}: {expected.rows} rows, the peers' the same", flush=True)
    finally:
        spark.stop()
        if con is not None:
            con.close()
    return figures


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
