"""Run the selected benchmarks at each scale and record them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from lakehouse_resources.settings import get_settings

from lakehouse_cli.bench import defs_load, dev_load, ingest, pipeline, pipes, report
from lakehouse_cli.bench.data import jaffle_shop_at, scale_label
from lakehouse_cli.bench.dbt_project import generated_project

ALL = (
    "ingest",
    "incremental",
    "defs",
    "pipeline",
    "pipes",
    "peers",
    "dev",
    "medallion",
    "delta",
    "bundle",
    "loop",
)


def run_benchmarks(
    *,
    scales: list[int],
    only: list[str],
    repeat: int,
    models: list[int],
    bench_dir: Path | None,
    docs: Path | None,
    tiny: bool,
    defs_targets: list[str] | None = None,
    spark_remote: str | None = None,
    domains_spark_remote: str | None = None,
) -> dict[str, Any]:
    settings = get_settings()
    # A tiny run checks that every benchmark works, not its speed: no warm-up round.
    warmup = not tiny
    bench = (bench_dir or settings.state_dir / "bench").resolve()
    work = bench / ("work-tiny" if tiny else "work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # Child processes (defs load, pipeline) must never open the developer's own warehouse.
    env = {**os.environ, "LAKEHOUSE_DUCKDB_PATH": str(work / "child.duckdb")}
    # Loads are measured as a user's machine runs them, with bytecode cached after the warm-up
    # round; without this, a shell that sets PYTHONDONTWRITEBYTECODE compiles every module anew.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results: dict[str, Any] = {"machine": report.machine()}
    # `--only defs` (or dev, bundle, ...) runs nothing per scale: no jaffle shop CSVs to generate.
    data_benchmarks = {"ingest", "incremental", "pipeline", "peers", "medallion", "delta"}
    for rows in scales if data_benchmarks & set(only) else []:
        label = scale_label(rows)
        data_dir, counts = jaffle_shop_at(bench, rows)
        if "ingest" in only:
            results[f"ingest_{label}"] = _say(ingest.full_load(work, data_dir, repeat, warmup))
        if "incremental" in only:
            results[f"incremental_{label}"] = _say(ingest.incremental(work, data_dir, counts, repeat))
        if "pipeline" in only and (tiny or rows <= 10_000_000):  # 1M by default, 10M when asked
            results[f"pipeline_{label}"] = _say(pipeline.run(work, data_dir, repeat, warmup))
        if "peers" in only:
            from lakehouse_cli.bench import peers

            results[f"peers_{label}"] = _say(peers.run(work, data_dir, repeat, warmup))
        if "medallion" in only:
            from lakehouse_cli.bench import medallion

            # A smoke run checks the code: one domain goes through every step of both paths.
            groups = medallion.GROUPS[:1] if tiny else medallion.GROUPS
            result = medallion.run(work, rows, repeat, groups, spark_remote=domains_spark_remote)
            results[f"medallion_{label}"] = _say(result)
        if "delta" in only:
            from lakehouse_cli.bench import delta_cost

            result = delta_cost.run(work, rows, repeat, spark_remote)
            results[f"delta_vs_parquet_{label}"] = _say(result)
    if "defs" in only:
        targets = defs_targets or list(defs_load.TARGETS)
        for count in models if "dbt_core" in targets else []:
            project = generated_project(settings, bench, count)
            loads = defs_load.run(["dbt_core"], project, env, repeat, warmup)
            results[f"defs_dbt_core_{count}_models"] = _say(loads["dbt_core"])
        others = [target for target in targets if target != "dbt_core"]
        for target, result in defs_load.run(others, None, env, repeat, warmup).items():
            results[f"defs_{target}"] = _say(result)
    if "pipes" in only:
        for name, result in pipes.run(work, repeat, spark_remote).items():
            results[name] = _say(result)
    if "dev" in only:
        results["dev_load"] = _say(dev_load.run(work, repeat, warmup))
    if "bundle" in only:
        from lakehouse_cli.bench import bundle

        results["bundle_deploy"] = _say(bundle.run(work, repeat, warmup))
    if "loop" in only:
        from lakehouse_cli.bench import inner_loop

        result = inner_loop.run(work, repeat, warmup, spark_remote=domains_spark_remote)
        results["inner_loop"] = _say(result)
    out = bench / ("results-tiny.json" if tiny else "results.json")
    report.write_results(out, results)
    if not tiny or docs:
        import json

        target = docs or settings.root / "docs" / "benchmarks.md"
        target.write_text(report.render(json.loads(out.read_text())) + _notes(target))
    return results


def _say(result: dict[str, Any]) -> dict[str, Any]:
    medians = ", ".join(f"{name} {seconds:.3f}s" for name, seconds in result["medians"].items())
    ratios = ", ".join(f"{name} {ratio:.2f}x" for name, ratio in result.get("ratios", {}).items())
    print(f"  {medians}" + (f" | {ratios}" if ratios else ""), flush=True)
    if "cpu_medians" in result:
        print(
            "  cpu " + ", ".join(f"{name} {s:.3f}s" for name, s in result["cpu_medians"].items()), flush=True
        )
    if "delta_vs_parquet" in result:
        print(
            "  delta/parquet " + ", ".join(f"{k} {v:.2f}x" for k, v in result["delta_vs_parquet"].items()),
            flush=True,
        )
    if "vs_spark_job" in result:
        print(
            "  vs spark_job " + ", ".join(f"{k} {v:.2f}x" for k, v in result["vs_spark_job"].items()),
            flush=True,
        )
    if "vs_stock" in result:
        print("  ours/stock " + ", ".join(f"{k} {v:.2f}x" for k, v in result["vs_stock"].items()), flush=True)
    return result


def _notes(docs: Path) -> str:
    """Keep the hand-written analysis below the generated table."""
    marker = "\n## Notes\n"
    if docs.exists() and marker in docs.read_text():
        return marker + docs.read_text().split(marker, 1)[1]
    return ""
