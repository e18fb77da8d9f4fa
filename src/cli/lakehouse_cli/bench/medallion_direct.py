"""Run the medallion domains straight on a Spark Connect server, without Dagster or the stand-in.

The baseline the benchmark compares the orchestrated run with: each layer's pipeline through
open-source `spark-pipelines run`, each gold job as `python <file> --<table parameters>` (what
`spark-submit` of a Python file does against a Connect server), with the configuration the bundle's
`local` target gives them (table names `spark_catalog.<domain>_<source>.<layer>_<asset>`,
expectations from the specs, the landing root).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DOMAINS = {"member": "enrollment", "claims": "adjudication"}


def spec_datasets(bundle: Path) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(kind, domain, source, dataset) for every dataset of the medallion specs."""
    for kind in ("pipelines", "jobs"):
        for domain, source in DOMAINS.items():
            for path in sorted((bundle / "specs" / kind / domain / source).glob("*.yml")):
                for dataset in yaml.safe_load(path.read_text())["datasets"]:
                    yield kind, domain, source, dataset


def local_table(domain: str, source: str, layer: str, name: str) -> str:
    return f"spark_catalog.{domain}_{source}.{layer}_{name}"


def configuration(bundle: Path, volumes_root: Path, domain: str) -> dict[str, str]:
    """A pipeline's configuration on the local target (every medallion dataset named)."""
    conf = {"lakehouse.landing_root": str(volumes_root / domain / DOMAINS[domain] / "landing")}
    for _, dataset_domain, source, dataset in spec_datasets(bundle):
        layer, name = dataset["layer"], dataset["name"]
        full = local_table(dataset_domain, source, layer, name)
        conf[f"lakehouse.table.{dataset_domain}.{source}.{layer}.{name}"] = full
        if dataset_domain == domain:
            conf[f"lakehouse.table.{layer}.{name}"] = full
            conf[f"lakehouse.expectations.{layer}.{name}"] = json.dumps(dataset.get("expectations", []))
    return conf


GOLD_JOBS = {
    "member": ("gold/eligible_members.py", ["silver.eligibility", "gold.eligible_members"]),
    "claims": (
        "gold/paid_by_member.py",
        [
            "silver.medical",
            "silver.pharmacy",
            "silver.professional",
            "member.enrollment.silver.enrollment",
            "gold.paid_by_member",
        ],
    ),
}


def job_arguments(domain: str, datasets: list[str]) -> list[str]:
    args = []
    for dataset in datasets:
        parts = dataset.split(".")
        where = parts if len(parts) == 4 else [domain, DOMAINS[domain], *parts]
        args.append(f"--{'_'.join(parts)}_table={local_table(*where)}")
    return args


@dataclass
class DirectRun:
    seconds: dict[str, float] = field(default_factory=dict)
    output: str = ""

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def _run(command: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:4])}... failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def write_pipeline_spec(bundle: Path, volumes_root: Path, folder: Path, domain: str, layer: str) -> Path:
    """`folder/spark-pipeline.yml` for one domain's layer: the bundle's local configuration and the
    sources of `src/<domain>/<source>/<layer>`, its tables in the domain's schema."""
    source = DOMAINS[domain]
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "src").exists():
        (folder / "src").symlink_to(bundle / "src")
    spec = {
        "name": f"{domain}_{source}_{layer}",
        "catalog": "spark_catalog",
        "database": f"{domain}_{source}",
        "storage": (folder / "storage").as_uri(),
        "configuration": configuration(bundle, volumes_root, domain),
        "libraries": [{"glob": {"include": f"src/{domain}/{source}/{layer}/**"}}],
    }
    path = folder / "spark-pipeline.yml"
    path.write_text(json.dumps(spec))
    return path


def run_pipeline_spec(spec: Path, env: dict[str, str]) -> str:
    """`spark-pipelines run --spec <spec>` (its Python CLI) on the server `env`'s SPARK_REMOTE names."""
    return _run([sys.executable, "-m", "pyspark.pipelines.cli", "run", "--spec", str(spec)], env)


def run_layers(
    bundle: Path, volumes_root: Path, remote: str, work: Path, domains: Iterable[str] = tuple(DOMAINS)
) -> DirectRun:
    """Bronze, silver (pipelines) and gold (jobs) of each domain in turn: member, then claims."""
    env = {**os.environ, "SPARK_REMOTE": remote}
    run = DirectRun()
    for domain in domains:
        source = DOMAINS[domain]
        for layer in ("bronze", "silver"):
            spec = write_pipeline_spec(bundle, volumes_root, work / f"{domain}_{layer}", domain, layer)
            start = time.perf_counter()
            run.output += run_pipeline_spec(spec, env)
            run.seconds[f"{domain}_{layer}"] = time.perf_counter() - start
        relative, datasets = GOLD_JOBS[domain]
        start = time.perf_counter()
        run.output += _run(
            [
                sys.executable,
                str(bundle / "src" / domain / source / relative),
                *job_arguments(domain, datasets),
            ],
            env,
        )
        run.seconds[f"{domain}_gold"] = time.perf_counter() - start
    return run


def ensure_schemas(remote: str) -> None:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(remote).create()
    try:
        for domain, source in DOMAINS.items():
            spark.sql(f"CREATE SCHEMA IF NOT EXISTS spark_catalog.{domain}_{source}")
    finally:
        spark.stop()
