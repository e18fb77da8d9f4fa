"""A component that turns YAML-declared Databricks notebook and Python jobs into assets.

Each job becomes one asset keyed `[domain, "{domain}_{source}_{layer}_{asset}"]` (the platform
policy's name whole, the domain as prefix), run through the lakehouse Databricks Pipes client with
its compute mode, task type, parameters, env, timeout, freshness policy and automation condition as
declared. `tables` maps a parameter to a `<schema>.<table>`; the job gets the full Unity Catalog name
the settings give it in the current environment (`LakehouseSettings.table_name`), so the code never
builds a table name itself.
"""

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import yaml
from lakehouse_resources.automation import any_deps_updated_condition, eager_condition, manual_condition
from lakehouse_resources.databricks import DatabricksTaskSpec, LakehouseDatabricksClient
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import DatabricksCompute, get_settings
from pydantic import ValidationError

TaskTypeName = Literal["notebook", "spark_python", "python_wheel"]
AutomationName = Literal["eager", "any_deps_updated", "none"]


class NotebookJob(dg.Model):
    domain: str
    source: str
    layer: Literal["bronze", "silver", "gold", "raw", "base", "staging", "final"]
    asset: str
    task_type: TaskTypeName = "notebook"
    path: str = ""
    package_name: str | None = None
    entry_point: str | None = None
    compute: DatabricksCompute | None = None
    parameters: dict[str, str] = {}
    tables: dict[str, str] = {}
    env: dict[str, str] = {}
    # What a Python or wheel task imports beyond the runtime (cluster libraries or its serverless
    # environment); a serverless notebook declares its own with a `%pip install` cell.
    dependencies: list[str] = []
    timeout_seconds: float | None = None
    deps: list[str] = []
    checks: list[str] = []
    description: str | None = None
    freshness_fail_minutes: int | None = None
    automation: AutomationName = "eager"

    @property
    def name(self) -> str:
        return f"{self.domain}_{self.source}_{self.layer}_{self.asset}"

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([self.domain, self.name])

    def task(self, table_name: Callable[[str], str]) -> DatabricksTaskSpec:
        tables = {parameter: table_name(table) for parameter, table in self.tables.items()}
        common: dict[str, Any] = {
            "parameters": {**self.parameters, **tables},
            "env": self.env,
            "dependencies": tuple(self.dependencies),
            "compute": self.compute,
            "timeout_seconds": self.timeout_seconds,
            "tags": {"lakehouse_asset": self.name},
        }
        if self.task_type == "notebook":
            return DatabricksTaskSpec.notebook(self.path, **common)
        if self.task_type == "spark_python":
            return DatabricksTaskSpec.python_file(self.path, **common)
        if not (self.package_name and self.entry_point):
            raise ValueError(f"{self.name}: a python_wheel job needs package_name and entry_point")
        return DatabricksTaskSpec.wheel(self.package_name, self.entry_point, **common)


def automation_condition(name: AutomationName) -> dg.AutomationCondition:
    # The YAML names map onto the lakehouse policy's conditions, so notebooks wait for blocking
    # checks and in-progress runs like every other asset; `none` opts out of automation.
    if name == "none":
        return manual_condition()
    if name == "any_deps_updated":
        return any_deps_updated_condition()
    return eager_condition()


def _notebook_asset(job: NotebookJob, table_name: Callable[[str], str]) -> dg.AssetsDefinition:
    task = job.task(table_name)

    @dg.asset(
        key=job.key,
        group_name=job.domain,
        deps=[dg.AssetKey.from_user_string(dep) for dep in job.deps],
        check_specs=[
            dg.AssetCheckSpec(
                check, asset=job.key, description=f"Checked and reported by {job.path} through Pipes."
            )
            for check in job.checks
        ],
        kinds={"databricks", "python"},
        pool=WAREHOUSE_POOL,
        description=job.description,
        automation_condition=automation_condition(job.automation),
        freshness_policy=(
            dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=job.freshness_fail_minutes))
            if job.freshness_fail_minutes
            else None
        ),
        tags={"lakehouse/compute": str(job.compute or "default"), "lakehouse/task_type": job.task_type},
    )
    def _run(context: dg.AssetExecutionContext, databricks: LakehouseDatabricksClient) -> Iterator[Any]:
        from lakehouse_resources.databricks.table_metadata import with_table_schema

        client = databricks.workspace_client()
        for result in databricks.run(context=context, task=task).get_results():
            yield with_table_schema(client, result)

    return _run


class DatabricksNotebookJobs(dg.Component, dg.Model, dg.Resolvable):
    """`jobs:` a list of NotebookJob; see defs/databricks_notebooks/defs.yaml."""

    jobs: list[NotebookJob]

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return self.definitions(get_settings().table_name)

    def definitions(self, table_name: Callable[[str], str]) -> dg.Definitions:
        """`table_name` turns a job's `<schema>.<table>` into the name its code gets."""
        names = [job.name for job in self.jobs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"Databricks jobs declared twice: {', '.join(duplicates)}")
        return dg.Definitions(assets=[_notebook_asset(job, table_name) for job in self.jobs])

    @classmethod
    def from_yaml_file(cls, path: Path) -> "DatabricksNotebookJobs":
        """Load `attributes:` of a component YAML without scanning the defs folder for plugins."""
        document = yaml.safe_load(path.read_text()) or {}
        try:
            return cls.model_validate(document.get("attributes", {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
            )
            raise ValueError(f"{path}: {problems}") from None
