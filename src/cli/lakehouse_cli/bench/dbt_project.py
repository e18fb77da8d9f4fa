"""A jaffle shop dbt project grown to N models, parsed once, for the Definitions-load benchmark."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from lakehouse_resources.settings import LakehouseSettings


def _model_sql(index: int) -> str:
    # Each model reads staging or an earlier generated model, so the graph has depth and fan-in.
    upstream = "stg_payments" if index < 10 or index % 10 == 0 else f"gen_{index - 1 - (index % 7):04d}"
    return f"select payment_id, order_id, amount from {{{{ ref('{upstream}') }}}} where payment_id % 1000 = {index}\n"


def generated_project(settings: LakehouseSettings, bench_dir: Path, models: int) -> Path:
    """Copy of dbt/jaffle_shop plus `models` generated models, each with a not_null test."""
    out = (bench_dir / f"dbt_{models}" / "jaffle_shop").resolve()
    manifest = out / "target" / "manifest.json"
    if manifest.exists():
        return out
    source = settings.dbt_dir / "jaffle_shop"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    folder = out / "models" / "generated"
    folder.mkdir(parents=True)
    lines = ["version: 2", "", "models:"]
    for index in range(models):
        (folder / f"gen_{index:04d}.sql").write_text(_model_sql(index))
        lines += [
            f"  - name: gen_{index:04d}",
            "    columns:",
            "      - name: payment_id",
            "        data_tests: [not_null]",
        ]
    (folder / "_generated.yml").write_text("\n".join(lines) + "\n")
    with (out / "dbt_project.yml").open("a") as fh:
        fh.write("    generated:\n      +schema: generated\n      +materialized: view\n")
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [str(dbt), "parse", "--project-dir", str(out), "--profiles-dir", str(out), "--quiet"],
        check=True,
        env={
            **settings.child_process_env(),
            "PATH": str(dbt.parent),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
    )
    return out
