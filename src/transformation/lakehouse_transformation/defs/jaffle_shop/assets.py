"""dbt Core assets for the jaffle shop project; dbt tests surface as asset checks."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, DbtProject
from lakehouse_resources.asset_keys import JAFFLE_SHOP, dbt_model_key
from lakehouse_resources.automation import eager_condition
from lakehouse_resources.dbt_launcher import mark_parent
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.tools import ensure_local_tools

from lakehouse_transformation.defs.dbt_metadata import DescribedDbtTranslator
from lakehouse_transformation.defs.jaffle_shop.dbt_cli import lakehouse_dbt_cli
from lakehouse_transformation.defs.jaffle_shop.project import jaffle_shop_project, profile_key
from lakehouse_transformation.defs.jaffle_shop.row_counts import column_schemas, table_names, with_row_counts
from lakehouse_transformation.defs.jaffle_shop.spec_cache import cached_dbt_assets


class LakehouseDbtTranslator(DescribedDbtTranslator):
    """Models are keyed `<project>/<model>`; sources keep dbt's `<source>/<table>` (= raw/<table>).

    Code references point at each model's SQL file, found through `project`. The specs leave
    dagster-dbt's `dagster_dbt/project` entry out (`spec_cache`): the UI hides its manifest and
    translator entries but shows that one as "[DbtProject] (unserializable)" on every model. So
    dagster-dbt's run-time code finds no project on the asset and passes None; the translator then
    uses its own, and dbt runs in the resource's `project_dir`, the same project.
    """

    def __init__(self, project_name: str, project: DbtProject | None = None) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=True)
        )
        self.project_name = project_name
        self.project = project

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        return super().get_asset_spec(manifest, unique_id, project or self.project)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dbt_model_key(self.project_name, dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        # staging / marts, from the model's folder
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else "models"
        return f"{self.project_name}_{layer}"

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        # Models build once after an upstream update (or once when missing), when no upstream is
        # running and their blocking tests passed; sources are other locations' assets.
        return eager_condition() if dbt_resource_props["resource_type"] in ("model", "snapshot") else None


def run_target_path(settings: LakehouseSettings) -> Path:
    """One dbt target folder per warehouse the profile points at, reused by every run.

    dagster-dbt's default is a new folder per run seeded with the prepared `partial_parse.msgpack`,
    but the profile reads LAKEHOUSE_DUCKDB_PATH, so whenever the warehouse differs from the one
    the project was prepared with dbt answers "profile has changed" and parses everything again
    (~2-3 s per run). Runs on one warehouse queue on its pool, so they never share the folder at once.
    """
    return Path("target") / f"dagster-{profile_key(settings)}"


DBT_INDIRECT_SELECTION = "DBT_INDIRECT_SELECTION"


@contextmanager
def cautious_test_selection() -> Iterator[None]:
    """dbt's default (eager) also runs a test whose other parent is not selected, e.g. the
    orders -> customers relationship when only customers is built, against a table that may not
    exist yet; cautious runs a test only when all its parents are selected. dagster-dbt reads the
    variable and starts dbt inside `cli()`, so it is set for that call only (a user's value wins).
    """
    if DBT_INDIRECT_SELECTION in os.environ:
        yield
        return
    os.environ[DBT_INDIRECT_SELECTION] = "cautious"
    try:
        yield
    finally:
        os.environ.pop(DBT_INDIRECT_SELECTION, None)


def build_jaffle_shop_assets(
    settings: LakehouseSettings, project_dir: Path | None = None
) -> dg.AssetsDefinition:
    project = jaffle_shop_project(settings, project_dir)

    @cached_dbt_assets(
        manifest_path=project.manifest_path,
        project=project,
        translator=LakehouseDbtTranslator(JAFFLE_SHOP, project),
        name="jaffle_shop_dbt",
        pool=WAREHOUSE_POOL,
    )
    def jaffle_shop_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        ensure_local_tools(settings)
        cli = lakehouse_dbt_cli(dbt, core_adapter=not settings.is_local)
        with cautious_test_selection():
            mark_parent()
            invocation = cli.cli(["build"], context=context, target_path=run_target_path(settings))
        events = invocation.stream()
        if settings.is_local:
            yield from with_row_counts(events, tables, str(settings.duckdb_path), schemas)
        else:
            yield from events.fetch_row_counts().fetch_column_metadata()

    tables = table_names(jaffle_shop_dbt)
    schemas = column_schemas(jaffle_shop_dbt)
    return jaffle_shop_dbt
