"""Context only: other ways to land the same payments file in DuckDB (polars, dlt arrow, Sling CLI)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb

from lakehouse_cli.bench.ingest import declared_tables
from lakehouse_cli.bench.timing import Case, interleaved, summarize, timed


def _duckdb(path: Path, columns: dict[str, str], db: Path) -> None:
    from lakehouse_ingestion.csv_contract import duckdb_types

    with duckdb.connect(str(db)) as con:
        con.execute(
            "create or replace table payments as select * from read_csv(?, header = true, columns = ?,"
            " auto_detect = false)",
            [str(path), duckdb_types(columns)],
        )


def _polars(path: Path, db: Path) -> None:
    import polars as pl

    frame = pl.read_csv(
        path, schema={"id": pl.Int64, "order_id": pl.Int64, "payment_method": pl.Utf8, "amount": pl.Int64}
    )
    with duckdb.connect(str(db)) as con:
        con.register("frame", frame.to_arrow())
        con.execute("create or replace table payments as select * from frame")


def _dlt_arrow(path: Path, db: Path, work: Path) -> None:
    import dlt
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path)
    pipe = dlt.pipeline(
        pipeline_name="bench_peer",
        destination=dlt.destinations.duckdb(str(db)),
        pipelines_dir=str(work / "dlt"),
    )
    pipe.run(table, table_name="payments", write_disposition="replace")


def _sling(path: Path, db: Path) -> None:
    from lakehouse_resources.tools import ensure_local_tools, local_tool_env

    ensure_local_tools()
    env = {**os.environ, **local_tool_env(), "BENCH_DUCKDB": f"duckdb://{db}"}
    subprocess.run(
        [
            env["SLING_BINARY"],
            "run",
            "--src-stream",
            f"file://{path}",
            "--tgt-conn",
            "BENCH_DUCKDB",
            "--tgt-object",
            "main.payments",
            "--mode",
            "full-refresh",
        ],
        check=True,
        env=env,
        capture_output=True,
    )


def run(work: Path, data_dir: Path, repeat: int, warmup: bool = True) -> dict[str, object]:
    path, columns = declared_tables(data_dir)["raw_payments"]
    cases: dict[str, Case] = {
        "duckdb_read_csv": lambda: timed(lambda: _duckdb(path, columns, work / "peer_duckdb.duckdb")),
        "polars": lambda: timed(lambda: _polars(path, work / "peer_polars.duckdb")),
        "dlt_arrow": lambda: timed(lambda: _dlt_arrow(path, work / "peer_dlt.duckdb", work)),
        "sling_cli": lambda: timed(lambda: _sling(path, work / "peer_sling.duckdb")),
    }
    return summarize(interleaved(cases, repeat, warmup), "duckdb_read_csv")
