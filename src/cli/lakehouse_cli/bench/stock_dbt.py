"""The stock dagster-dbt load the `defs_dbt_core_*` rows compare ours with.

Definitions built the way the dagster-dbt documentation shows them: a `DbtProject`,
`@dbt_assets(manifest=project.manifest_path)` with the default `DagsterDbtTranslator`, and a
`DbtCliResource` on the project. Nothing of ours is imported (no settings, no spec cache, no
translator), so the case pays exactly what a user of the library pays for the same manifest.

`python -c "from lakehouse_cli.bench.stock_dbt import load; load('<project_dir>')"` is the
candidate process; `load` resolves the repository and its snapshot as `defs_load.load` does.
No `from __future__ import annotations`: Dagster reads the asset function's annotations.
"""

from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets


def build_stock_defs(project_dir: str) -> dg.Definitions:
    # The generated projects keep their profiles.yml in the project folder, as ours does.
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    project.prepare_if_dev()  # as the docs show; a no-op outside `dagster dev`

    @dbt_assets(manifest=project.manifest_path)
    def stock_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Any:
        yield from dbt.cli(["build"], context=context).stream()

    return dg.Definitions(assets=[stock_dbt_assets], resources={"dbt": DbtCliResource(project_dir=project)})


def load(project_dir: str) -> None:
    from dagster._core.remote_representation.external_data import RepositorySnap

    defs = build_stock_defs(project_dir)
    RepositorySnap.from_def(defs.get_repository_def())  # pyright: ignore[reportAttributeAccessIssue]
