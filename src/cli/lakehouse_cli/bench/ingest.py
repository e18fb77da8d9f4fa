"""CSV ingestion at scale: DuckDB's own read_csv (the physical limit here) against our loader and
the Dagster asset; then a reload after 1% appended rows against the full load."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import duckdb
from lakehouse_ingestion.defs.jaffle_shop_files.assets import build_duckdb_files
from lakehouse_ingestion.defs.jaffle_shop_files.duckdb_load import CsvTableLoader
from lakehouse_ingestion.defs.jaffle_shop_files.replication import file_path, load_replication
from lakehouse_resources.settings import get_settings

from lakehouse_cli.bench.timing import Case, interleaved, summarize, timed

Tables = dict[str, tuple[Path, dict[str, str]]]


def declared_tables(data_dir: Path) -> Tables:
    """table -> (file, columns), from replication_csv.yaml, as the asset reads it."""
    replication = load_replication(data_dir)
    return {
        config["object"].split(".")[1]: (file_path(name), config["columns"])
        for name, config in replication["streams"].items()
    }


def duckdb_read_csv(db: Path, tables: Tables) -> None:
    """The baseline: one CREATE TABLE AS read_csv per file, types declared, nothing else."""
    from lakehouse_ingestion.csv_contract import duckdb_types

    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists raw")
        for table, (path, columns) in tables.items():
            con.execute(
                f"create or replace table raw.{table} as select * from read_csv(?, header = true,"
                " columns = ?, auto_detect = false)",
                [str(path), duckdb_types(columns)],
            )


def loader_full(db: Path, tables: Tables) -> None:
    with duckdb.connect(str(db)) as con:
        loader = CsvTableLoader(con, "raw")
        for table, (path, columns) in tables.items():
            loader.load(path, table, columns, full_refresh=True)


def asset_case(work: Path, data_dir: Path) -> Case:
    settings = get_settings(duckdb_path_override=work / "asset.duckdb", data_dir_override=data_dir)
    assets = build_duckdb_files(settings)
    config = dg.RunConfig(ops={"jaffle_shop_files": {"config": {"full_refresh": True}}})

    def run() -> None:
        result = dg.materialize([assets], run_config=config, instance=dg.DagsterInstance.ephemeral())
        assert result.success

    return lambda: timed(run)


def full_load(work: Path, data_dir: Path, repeat: int, warmup: bool = True) -> dict[str, object]:
    tables = declared_tables(data_dir)
    cases: dict[str, Case] = {
        "duckdb_read_csv": lambda: timed(lambda: duckdb_read_csv(work / "baseline.duckdb", tables)),
        "loader": lambda: timed(lambda: loader_full(work / "loader.duckdb", tables)),
        "dagster_asset": asset_case(work, data_dir),
    }
    return summarize(interleaved(cases, repeat, warmup), "duckdb_read_csv")


def _appended_rows(table: str, start: int, count: int) -> bytes:
    # Same shapes as the generator's rows, CRLF like its csv.writer, ids continuing the file.
    rows = {
        "raw_customers": lambda i: f"{i},Anna,B.",
        "raw_orders": lambda i: f"{i},{1 + i % 97},2018-04-09,completed",
        "raw_payments": lambda i: f"{i},{1 + i // 2},credit_card,{(i % 30) * 100}",
    }[table]
    return "".join(rows(i) + "\r\n" for i in range(start, start + count)).encode()


def incremental(work: Path, data_dir: Path, counts: Mapping[str, int], repeat: int) -> dict[str, object]:
    """Per round: restore the files, full load (timed), append 1% (untimed), reload (timed)."""
    copies = work / "append"
    copies.mkdir(parents=True, exist_ok=True)
    tables = declared_tables(data_dir)
    for path, _ in tables.values():
        shutil.copyfile(path, copies / path.name)
    local = {table: (copies / path.name, columns) for table, (path, columns) in tables.items()}
    sizes = {table: path.stat().st_size for table, (path, _) in local.items()}
    db = work / "incremental.duckdb"
    full: list[float] = []
    reload: list[float] = []
    for _ in range(repeat + 1):
        for table, (path, _) in local.items():
            os.truncate(path, sizes[table])
        with duckdb.connect(str(db)) as con:
            loader = CsvTableLoader(con, "raw")
            start = time.perf_counter()
            for table, (path, columns) in local.items():
                loader.load(path, table, columns, full_refresh=True)
            full.append(time.perf_counter() - start)
            for table, (path, _) in local.items():
                with path.open("ab") as fh:
                    fh.write(_appended_rows(table, counts[table] + 1, max(1, counts[table] // 100)))
            start = time.perf_counter()
            results = [loader.load(path, table, columns) for table, (path, columns) in local.items()]
            reload.append(time.perf_counter() - start)
            if not all(r.incremental for r in results):
                raise RuntimeError("an append was taken for a changed file")
    full, reload = full[1:], reload[1:]  # the first round warms the page cache
    return summarize({"full_load": full, "append_1pct_reload": reload}, "full_load")
