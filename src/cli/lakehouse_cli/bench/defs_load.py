"""Definitions load against importing the libraries a load uses, each in a fresh interpreter.

`python -m lakehouse_cli.bench.defs_load <target> [project_dir]` is the candidate process: it
builds the target's Definitions, resolves the repository and its snapshot (what a code server
serves), then prints the third-party packages it imported, which become the baseline's imports.
For the dbt Core part a third case loads the same manifest through stock `@dbt_assets`
(`stock_dbt.py`), and the result carries our load as a ratio of it (`vs_stock`, wall and CPU).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lakehouse_cli.bench.timing import interleaved, median, python_case, summarize

TARGETS = ("dbt_core", "ingestion", "transformation", "downstream")
# The dbt Core rows' peer: the same generated manifest through stock `@dbt_assets` (stock_dbt.py).
STOCK = "stock_dbt_assets"


def _build(target: str, project_dir: str | None) -> object:
    from lakehouse_resources.settings import get_settings

    settings = get_settings()
    if target == "dbt_core":
        from lakehouse_transformation.defs.jaffle_shop.build import build_jaffle_shop_defs

        return build_jaffle_shop_defs(settings, Path(project_dir) if project_dir else None)
    if target == "ingestion":
        from lakehouse_ingestion.defs.build import build_ingestion_defs

        return build_ingestion_defs(settings)
    if target == "transformation":
        from lakehouse_transformation.defs.build import build_transformation_defs

        return build_transformation_defs(settings)
    from lakehouse_downstream.defs.build import build_downstream_defs

    return build_downstream_defs(settings)


def third_party_imports() -> list[str]:
    """Top-level packages in sys.modules that are neither stdlib nor ours."""
    names = {name.split(".")[0] for name in sys.modules}
    return sorted(
        name
        for name in names
        if name not in sys.stdlib_module_names
        and not name.startswith(("_", "lakehouse_"))
        and name != "__main__"
    )


def load(target: str, project_dir: str | None = None) -> None:
    from dagster._core.remote_representation.external_data import RepositorySnap

    defs = _build(target, project_dir)
    RepositorySnap.from_def(defs.get_repository_def())  # pyright: ignore[reportAttributeAccessIssue]


def _candidate_code(target: str, project_dir: Path | None) -> str:
    arg = repr(str(project_dir)) if project_dir else "None"
    return f"from lakehouse_cli.bench.defs_load import load; load({target!r}, {arg})"


def run(
    targets: list[str],
    project_dir: Path | None,
    env: dict[str, str],
    repeat: int,
    warmup: bool = True,
) -> dict[str, dict[str, Any]]:
    import subprocess

    results: dict[str, dict[str, Any]] = {}
    for target in targets:
        code = _candidate_code(target, project_dir if target == "dbt_core" else None)
        listing = subprocess.run(
            [
                sys.executable,
                "-c",
                code + "; from lakehouse_cli.bench.defs_load import third_party_imports as t;"
                " import json; print(json.dumps(t()))",
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        imported = json.loads(listing.stdout.strip().splitlines()[-1])
        # The brief's yardstick for the dbt part is exactly `import dagster, dagster_dbt`.
        baseline = ["dagster", "dagster_dbt"] if target == "dbt_core" else imported
        importing = (
            "import importlib\n"
            f"for name in {baseline!r}:\n"
            "    try:\n        importlib.import_module(name)\n"
            "    except Exception:\n        pass\n"  # a package that only imports as part of another
        )
        cpu: dict[str, list[float]] = {"imports": [], "load": []}
        cases = {
            "imports": python_case(importing, env, cpu["imports"]),
            "load": python_case(code, env, cpu["load"]),
        }
        if target == "dbt_core" and project_dir is not None:
            # The same manifest through stock `@dbt_assets`, interleaved with ours and the imports.
            cpu[STOCK] = []
            cases[STOCK] = python_case(_stock_code(project_dir), env, cpu[STOCK])
        times = interleaved(cases, repeat, warmup)
        cpu_times = {name: values[len(values) - repeat :] for name, values in cpu.items()}  # no warm-up
        results[target] = summarize(
            times,
            "imports",
            baseline_imports=baseline,
            imported_by_load=imported,
            cpu_times=cpu_times,
            cpu_medians={name: median(values) for name, values in cpu_times.items()},
            **({"vs_stock": _vs_stock(times, cpu_times)} if STOCK in times else {}),
        )
    return results


def _stock_code(project_dir: Path) -> str:
    return f"from lakehouse_cli.bench.stock_dbt import load; load({str(project_dir)!r})"


def _vs_stock(times: dict[str, list[float]], cpu_times: dict[str, list[float]]) -> dict[str, float]:
    """Our load as a ratio of the stock one (issue 23's target: <= 0.8x at 5,000 and 10,000 models)."""
    return {
        "wall": median(times["load"]) / median(times[STOCK]),
        "cpu": median(cpu_times["load"]) / median(cpu_times[STOCK]),
    }


if __name__ == "__main__":
    load(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
