"""results.json (every repetition) and the table in docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from importlib.metadata import version
from pathlib import Path
from typing import Any

PACKAGES = (
    "dagster",
    "dagster-dbt",
    "dagster-sling",
    "dagster-dlt",
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "polars",
)
TARGETS = {
    "ingest": ("dagster_asset", "<= 1.3x DuckDB read_csv"),
    "incremental": ("append_1pct_reload", "<= 0.1x full load"),
    "pipeline": ("dagster", "<= 1.3x the tools run directly"),
}


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in PACKAGES},
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _version(name: str) -> str:
    try:
        return version(name)
    except Exception:
        return "not installed"


def write_results(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous.update(results)  # one scale or benchmark at a time keeps the others' figures
    path.write_text(json.dumps(previous, indent=2, default=str))


def whole_platform(results: dict[str, Any]) -> dict[str, Any]:
    """`whole_<scale>`: the jaffle shop path (`pipeline_<scale>`) plus the medallion domains on Spark
    (`medallion_<scale>`) at one scale, each side the sum of its two medians, so the platform's
    figure weighs the import-bound fixed cost against the work as a whole run does."""
    derived: dict[str, Any] = {}
    for name, pipeline in results.items():
        label = name.removeprefix("pipeline_")
        medallion = results.get(f"medallion_{label}")
        if not name.startswith("pipeline_") or not isinstance(medallion, dict):
            continue
        medians = {
            "direct": pipeline["medians"]["direct"] + medallion["medians"]["direct"],
            "dagster": pipeline["medians"]["dagster"] + medallion["medians"]["dagster"],
        }
        derived[f"whole_{label}"] = {
            "runs": min(len(pipeline["times"]["direct"]), len(medallion["times"]["direct"])),
            "baseline": "direct",
            "medians": medians,
            "ratios": {case: value / medians["direct"] for case, value in medians.items()},
        }
    return derived


STOCK = "stock_dbt_assets"


def against_stock(results: dict[str, Any]) -> dict[str, Any]:
    """`<run>_vs_stock` (wall) and `<run>_vs_stock_cpu` (user + system seconds): for a run that
    measured stock `@dbt_assets` beside our load, both against the stock case's median."""
    derived: dict[str, Any] = {}
    for name, run in results.items():
        if not isinstance(run, dict) or STOCK not in run.get("medians", {}):
            continue
        for suffix, medians, times in (
            ("", run["medians"], run["times"]),
            ("_cpu", run.get("cpu_medians"), run.get("cpu_times")),
        ):
            if not medians or not times or STOCK not in medians or "load" not in medians:
                continue
            pair = {STOCK: medians[STOCK], "load": medians["load"]}
            derived[f"{name}_vs_stock{suffix}"] = {
                "runs": len(times[STOCK]),
                "baseline": STOCK,
                "medians": pair,
                "ratios": {case: value / pair[STOCK] for case, value in pair.items()},
            }
    return derived


STOCK_PIPELINE = "stock_dagster"


def pipeline_against_stock(results: dict[str, Any]) -> dict[str, Any]:
    """`pipeline_<scale>_vs_stock`: every case of a pipeline run (ours through Dagster, the tools
    direct) against the same rounds' minimal stock Dagster project (`stock_pipeline.py`), wall."""
    derived: dict[str, Any] = {}
    for name, run in results.items():
        if not isinstance(run, dict) or STOCK_PIPELINE not in run.get("medians", {}):
            continue
        medians = run["medians"]
        ordered = {STOCK_PIPELINE: medians[STOCK_PIPELINE]} | {
            case: value for case, value in medians.items() if case != STOCK_PIPELINE
        }
        derived[f"{name}_vs_stock"] = {
            "runs": len(run["times"][STOCK_PIPELINE]),
            "baseline": STOCK_PIPELINE,
            "medians": ordered,
            "ratios": {case: value / medians[STOCK_PIPELINE] for case, value in ordered.items()},
        }
    return derived


SPARK_JOB = "spark_job"


def against_spark_job(results: dict[str, Any]) -> dict[str, Any]:
    """`medallion_<scale>_vs_spark_job`: every case of a medallion run (the domains direct and through
    Dagster, DuckDB) against the hand-written Spark job's median of the same run."""
    derived: dict[str, Any] = {}
    for name, run in results.items():
        if not isinstance(run, dict) or SPARK_JOB not in run.get("medians", {}):
            continue
        medians = run["medians"]
        derived[f"{name}_vs_spark_job"] = {
            "runs": len(run["times"][SPARK_JOB]),
            "baseline": SPARK_JOB,
            "medians": medians,
            "ratios": {case: value / medians[SPARK_JOB] for case, value in medians.items()},
        }
    return derived


def _rows(results: dict[str, Any]) -> list[str]:
    rows = []
    derived = {
        **whole_platform(results),
        **against_stock(results),
        **pipeline_against_stock(results),
        **against_spark_job(results),
    }
    for run_name, run in sorted({**results, **derived}.items()):
        if not isinstance(run, dict) or "medians" not in run:
            continue
        base = run.get("baseline")
        n = run.get("runs") or len(next(iter(run["times"].values()), []))
        for case, seconds in run["medians"].items():
            ratio = run.get("ratios", {}).get(case)
            ratio_text = f"{ratio:.2f}x" if ratio is not None else "-"
            rows.append(f"| {run_name} | {case} | {seconds:.3f} | {base} | {ratio_text} | {n} |")
    return rows


def render(results: dict[str, Any]) -> str:
    info = results.get("machine", machine())
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    lines = [
        "# Benchmarks",
        "",
        "Generated by `uv run task bench` (`python -m lakehouse_cli.bench`); every repetition is in",
        "`.lakehouse/bench/results.json`. Cases run interleaved (rotating order, one warm-up round),",
        "figures are medians in seconds, ratios are against the named baseline of the same run",
        "(`*_vs_stock`: our dbt Core load against stock `@dbt_assets` on the same manifest, wall;",
        "`*_vs_stock_cpu`: the same runs' user + system CPU seconds; `pipeline_*_vs_stock`: every",
        "case of the jaffle shop path against a minimal stock Dagster project doing the same work).",
        "",
        f"Machine: {info['cores']} cores, {info['memory_gib']} GiB, {info['cpu']}, Python {info['python']};"
        f" {info['date']}.",
        f"Versions: {versions}.",
        "",
        "| benchmark | case | median s | baseline | ratio | runs |",
        "|---|---|---|---|---|---|",
        *_rows(results),
        "",
    ]
    return "\n".join(lines)
