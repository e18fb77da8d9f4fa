"""The jaffle shop path end to end: through Dagster (`run_pipeline`) against the same tools run
directly (DuckDB read_csv, `dbt build`, the downstream SQL), each in a fresh process. A third
case, `stock_dagster`, runs the same work as a minimal stock Dagster project would
(`stock_pipeline.py`); the result carries every case against it too (`vs_stock`).

`python -m lakehouse_cli.bench.pipeline {dagster|direct} <data_dir> <duckdb> <dbt_target_dir>`
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from lakehouse_cli.bench.timing import interleaved, median, summarize, timed

# The peer case: the same work as a minimal stock Dagster project (stock_pipeline.py).
STOCK = "stock_dagster"


def through_dagster(data_dir: Path, db: Path, warm: bool = False) -> None:
    import dagster as dg
    from lakehouse_downstream.defs.analytics.segments import CUSTOMER_SEGMENTS
    from lakehouse_resources.asset_keys import JAFFLE_SHOP, JAFFLE_SHOP_RAW
    from lakehouse_resources.settings import get_settings

    from lakehouse_cli.pipeline import run_pipeline

    # The jaffle shop path only: the dlt load, dbt Cloud and notebooks are other benchmarks.
    selection = dg.AssetSelection.assets(
        *JAFFLE_SHOP_RAW, CUSTOMER_SEGMENTS
    ) | dg.AssetSelection.key_prefixes(JAFFLE_SHOP)
    settings = get_settings(duckdb_path_override=db, data_dir_override=data_dir)
    if warm:  # imports and Definitions already paid, as in a long-lived code server
        from lakehouse_cli.pipeline import load_all_definitions

        load_all_definitions(settings)
    start = time.perf_counter()
    result = run_pipeline(settings, dg.DagsterInstance.ephemeral(), selection=selection)
    if not result.success:
        raise SystemExit(f"pipeline failed: {result.failures}")
    print(f"RUN_SECONDS {time.perf_counter() - start}")


def direct(data_dir: Path, db: Path, target_dir: Path) -> None:
    from lakehouse_resources.settings import get_settings
    from lakehouse_resources.tools import ensure_local_tools

    from lakehouse_cli.bench.ingest import declared_tables, duckdb_read_csv

    settings = get_settings(duckdb_path_override=db, data_dir_override=data_dir)
    duckdb_read_csv(db, declared_tables(data_dir))
    ensure_local_tools(settings)
    project = settings.dbt_dir / "jaffle_shop"
    subprocess.run(
        [
            "dbt",
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target",
            settings.dbt_target,
            "--target-path",
            str(target_dir),
            "--quiet",
        ],
        check=True,
        cwd=project,
        env=os.environ,
    )
    import duckdb

    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists analytics")
        con.execute(segments_sql())


def segments_sql() -> str:
    """The customer_segments statement of `direct` (and of the stock project's asset)."""
    from lakehouse_downstream.defs.analytics.segments import bucket_case

    return (
        "create or replace table analytics.customer_segments as select "
        f"{bucket_case('customer_lifetime_value')} as ltv_bucket, count(*) as customers,"
        " sum(number_of_orders) as orders, sum(customer_lifetime_value) as lifetime_value"
        " from marts.customers group by all order by min(customer_lifetime_value)"
    )


def run(work: Path, data_dir: Path, repeat: int, warmup: bool = True) -> dict[str, object]:
    from lakehouse_cli.bench import stock_pipeline

    # The manifest is prepared once, here, for the warehouse every stock run writes.
    stock = stock_pipeline.generate(work / "stock_project", data_dir, work / f"pipeline_{STOCK}.duckdb")
    # Every case must leave the same tables with the same rows (the first one checked sets them).
    expected: dict[str, int | None] = {}

    def check(db: Path, case: str) -> None:
        counts = stock_pipeline.row_counts(db)
        if not expected:
            expected.update(counts)
        stock_pipeline.check_same(expected, counts, case)

    def fresh_db(mode: str) -> Path:
        db = work / f"pipeline_{mode}.duckdb"
        db.unlink(missing_ok=True)  # each run starts from an empty warehouse
        return db

    def launch(mode: str) -> tuple[str, Path]:
        db = fresh_db(mode)
        args = [
            sys.executable,
            "-m",
            "lakehouse_cli.bench.pipeline",
            mode,
            str(data_dir),
            str(db),
            str(work / "dbt_target"),
        ]
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout, db

    def case(mode: str) -> float:
        seconds = timed(lambda: launch(mode))
        check(work / f"pipeline_{mode}.duckdb", mode)  # untimed
        return seconds

    def run_only() -> float:
        out, db = launch("dagster-warm")
        check(db, "dagster_run_after_defs_load")
        line = next(x for x in out.splitlines() if x.startswith("RUN_SECONDS"))
        return float(line.split()[1])

    def stock_case() -> float:
        db = fresh_db(STOCK)
        seconds = timed(lambda: stock_pipeline.materialize(stock))
        check(db, STOCK)
        return seconds

    cases = {
        "direct": lambda: case("direct"),
        "dagster": lambda: case("dagster"),
        "dagster_run_after_defs_load": run_only,
        STOCK: stock_case,
    }
    times = interleaved(cases, repeat, warmup)
    stock_median = median(times[STOCK])
    # The second ratio set: every case against the stock project (`dagster` / `stock_dagster`).
    vs_stock = {name: median(values) / stock_median for name, values in times.items() if name != STOCK}
    return summarize(times, "direct", row_counts=expected, vs_stock=vs_stock)


if __name__ == "__main__":
    mode, data, database, target = sys.argv[1:5]
    if mode.startswith("dagster"):
        through_dagster(Path(data), Path(database), warm=mode == "dagster-warm")
    else:
        direct(Path(data), Path(database), Path(target))
