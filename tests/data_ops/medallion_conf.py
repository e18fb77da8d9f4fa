"""The configuration the bundle gives the medallion pipelines and jobs, built from their specs.

Mirrors what the generator passes on the `local` target (table names `spark_catalog.<domain>_<source>.
<layer>_<asset>`, expectations as JSON, the landing root) so tests run the files as deployed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from testsupport import REPO

SPECS = REPO / "databricks" / "specs"
DOMAINS = {"member": "enrollment", "claims": "adjudication"}


def spec_datasets() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for kind in ("pipelines", "jobs"):
        for domain, source in DOMAINS.items():
            for path in sorted((SPECS / kind / domain / source).glob("*.yml")):
                for dataset in yaml.safe_load(path.read_text())["datasets"]:
                    yield domain, source, dataset


def configure(spark: Any, suffix: str = "") -> dict[str, str]:
    """Set every dataset's table and expectations keys; `<domain>.<source>.<layer>.<name>` -> table."""
    tables = {}
    for domain, source, dataset in spec_datasets():
        layer, name = dataset["layer"], dataset["name"]
        full = f"spark_catalog.{domain}_{source}{suffix}.{layer}_{name}"
        tables[f"{domain}.{source}.{layer}.{name}"] = full
        spark.conf.set(f"lakehouse.table.{layer}.{name}", full)
        spark.conf.set(f"lakehouse.table.{domain}.{source}.{layer}.{name}", full)
        spark.conf.set(f"lakehouse.expectations.{layer}.{name}", json.dumps(dataset.get("expectations", [])))
    return tables


def set_landing(spark: Any, landing: Path, domain: str) -> None:
    spark.conf.set("lakehouse.landing_root", str(landing / domain / DOMAINS[domain] / "landing"))


def job_args(tables: dict[str, str], *datasets: str) -> list[str]:
    """`--<layer>_<asset>_table=...` as the generator passes them (`<domain>_<source>_...` for another domain's)."""
    args = []
    for dataset in datasets:
        parts = dataset.split(".")
        own = len(parts) == 2
        full = (
            tables[dataset]
            if not own
            else next(t for key, t in tables.items() if key.endswith("." + dataset))
        )
        args.append(f"--{'_'.join(parts)}_table={full}")
    return args


def rules(domain: str, layer: str, name: str) -> list[dict[str, Any]]:
    for dataset_domain, _, dataset in spec_datasets():
        if (dataset_domain, dataset["layer"], dataset["name"]) == (domain, layer, name):
            return list(dataset.get("expectations", []))
    raise KeyError(f"{domain}.{layer}.{name}")
