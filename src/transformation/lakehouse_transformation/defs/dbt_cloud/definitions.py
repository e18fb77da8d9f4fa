"""kaizen_wars as dbt Cloud assets, the polling sensor and the on-demand trigger job.

No `from __future__ import annotations`: Dagster reads the op and asset signatures at runtime.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    DBT_DEFAULT_EXCLUDE,
    DBT_DEFAULT_SELECT,
    DBT_DEFAULT_SELECTOR,
)
from dagster_dbt.cloud_v2.cli_invocation import DbtCloudCliInvocation
from dagster_dbt.cloud_v2.client import DbtCloudWorkspaceClient
from dagster_dbt.cloud_v2.resources import DbtCloudWorkspace
from dagster_dbt.cloud_v2.run_handler import DbtCloudJobRunHandler
from dagster_dbt.cloud_v2.sensor_builder import build_dbt_cloud_polling_sensor
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import DBT_CLOUD_JOB_NAME, LakehouseSettings
from lakehouse_resources.specs import knowingly_preview
from pydantic import Field

from lakehouse_transformation.defs.dbt_cloud.client import DbtCloudApiError
from lakehouse_transformation.defs.dbt_cloud.runs import (
    DbtCloudRunConfig,
    raise_for_run,
    stream_events,
    wait_or_cancel,
)
from lakehouse_transformation.defs.dbt_cloud.translator import KaizenWarsTranslator
from lakehouse_transformation.defs.dbt_cloud.workspace import PersistedDbtCloudWorkspace, build_workspace
from lakehouse_transformation.defs.jaffle_shop.row_counts import column_schemas, table_names, with_row_counts

RESOURCE_KEY = "dbt_cloud"
TRIGGER_JOB_NAME = "dbt_cloud_job_trigger"


def kaizen_wars_assets(
    workspace: DbtCloudWorkspace, translator: KaizenWarsTranslator, duckdb_path: str | None = None
) -> dg.AssetsDefinition:
    """`duckdb_path`: the warehouse dbt Cloud builds into, when it is ours to read (locally): row
    counts and column types then come from it, as for dbt Core."""
    selection = {
        "select": DBT_DEFAULT_SELECT,
        "exclude": DBT_DEFAULT_EXCLUDE,
        "selector": DBT_DEFAULT_SELECTOR,
    }
    with knowingly_preview():
        specs = workspace.load_asset_specs(dagster_dbt_translator=translator, **selection)
        check_specs = workspace.load_check_specs(dagster_dbt_translator=translator, **selection)

    # `dbt_cloud_assets` takes no pool, so the multi-asset is built here with the same op tags.
    @dg.multi_asset(
        name="kaizen_wars_dbt_cloud",
        specs=specs,
        check_specs=check_specs,
        can_subset=True,
        pool=WAREHOUSE_POOL,
        op_tags={
            DAGSTER_DBT_SELECT_METADATA_KEY: DBT_DEFAULT_SELECT,
            DAGSTER_DBT_EXCLUDE_METADATA_KEY: DBT_DEFAULT_EXCLUDE,
            DAGSTER_DBT_SELECTOR_METADATA_KEY: DBT_DEFAULT_SELECTOR,
        },
    )
    def _kaizen_wars(
        context: dg.AssetExecutionContext, config: DbtCloudRunConfig, dbt_cloud: PersistedDbtCloudWorkspace
    ) -> Iterator[Any]:
        invocation = start_build(context, dbt_cloud, translator)
        context.log.info(f"Started dbt Cloud run {invocation.run_handler.run_id}")
        events = stream_events(invocation, config.timeout_seconds)
        if duckdb_path:
            events = with_row_counts(events, tables, duckdb_path, column_schemas(_kaizen_wars))
        yield from events

    tables = table_names(_kaizen_wars)
    return _kaizen_wars


def start_build(
    context: dg.AssetExecutionContext, workspace: PersistedDbtCloudWorkspace, translator: KaizenWarsTranslator
) -> DbtCloudCliInvocation:
    """Trigger `dbt build` on the ad hoc job; if dbt Cloud no longer has that job, refresh the state once."""
    try:
        return workspace.cli(["build"], dagster_dbt_translator=translator, context=context)
    except DbtCloudApiError as exc:
        if exc.status != 404:
            raise
        stale = list(workspace.get_or_fetch_workspace_data().adhoc_job_ids)
        context.log.warning(
            f"The ad hoc dbt Cloud job {stale} in the saved workspace state no longer exists ({exc.description});"
            " refreshing the state once and retrying"
        )
    workspace.refresh_state(context.log)
    return workspace.cli(["build"], dagster_dbt_translator=translator, context=context)


class TriggerConfig(DbtCloudRunConfig):
    job_name: str = Field(DBT_CLOUD_JOB_NAME, description="The dbt Cloud job to run, by name.")
    job_id: int | None = Field(None, description="The dbt Cloud job to run, by id (wins over the name).")


def _job_id(client: DbtCloudWorkspaceClient, workspace: DbtCloudWorkspace, name: str) -> int:
    jobs: Sequence[Any] = client.list_jobs(
        project_id=workspace.project_id, environment_id=workspace.environment_id
    )
    matches = [job["id"] for job in jobs if job.get("name") == name]
    if len(matches) != 1:
        raise dg.Failure(
            f"Expected one dbt Cloud job named {name!r}, found {len(matches)}; set job_id in the config."
        )
    return int(matches[0])


@dg.op(pool=WAREHOUSE_POOL, out=dg.Out(dg.Nothing))
def trigger_dbt_cloud_job(
    context: dg.OpExecutionContext, config: TriggerConfig, dbt_cloud: DbtCloudWorkspace
):
    """Run the dbt Cloud job with its own steps; the polling sensor records what it materialized."""
    client = dbt_cloud.get_client()
    job_id = config.job_id or _job_id(client, dbt_cloud, config.job_name)
    started = client.trigger_job_run(job_id)
    handler = DbtCloudJobRunHandler(job_id=job_id, run_id=int(started["id"]), args=[], client=client)
    context.log.info(f"Started dbt Cloud run {handler.run_id} of job {job_id}: {started.get('href')}")
    run = wait_or_cancel(handler, config.timeout_seconds)
    raise_for_run(run, handler)
    return dg.Output(
        None, metadata={"dbt_cloud_run_id": run.id, "run_url": dg.MetadataValue.url(run.url or "")}
    )


@dg.job(name=TRIGGER_JOB_NAME, description="Run the kaizen_wars dbt Cloud job now.")
def dbt_cloud_job_trigger() -> None:
    trigger_dbt_cloud_job()


def polling_sensor(
    workspace: PersistedDbtCloudWorkspace, translator: KaizenWarsTranslator
) -> dg.SensorDefinition:
    """dagster-dbt's polling sensor; when dbt Cloud does not answer, one line instead of a traceback per tick."""
    inner = build_dbt_cloud_polling_sensor(workspace=workspace, dagster_dbt_translator=translator)

    @dg.sensor(
        name=inner.name,
        description=inner.description,
        minimum_interval_seconds=inner.minimum_interval_seconds,
        default_status=inner.default_status,
    )
    def _polling(context: dg.SensorEvaluationContext):
        try:
            return inner(context)
        except DbtCloudApiError as exc:
            if exc.status is None and workspace.unreachable_hint:
                return dg.SkipReason(f"{workspace.unreachable_hint}. ({exc.description})")
            raise

    return _polling


def build_dbt_cloud_defs(settings: LakehouseSettings) -> dg.Definitions:
    """Assets keyed [kaizen_wars, model], the polling sensor and `dbt_cloud_job_trigger`.

    The workspace state is read from the file `lakehouse dbt-cloud prepare` writes: loading never
    calls dbt Cloud, and a missing state fails naming that command.
    """
    workspace = build_workspace(settings)
    translator = KaizenWarsTranslator()
    return dg.Definitions(
        assets=[
            kaizen_wars_assets(
                workspace, translator, str(settings.duckdb_path) if settings.is_local else None
            )
        ],
        sensors=[polling_sensor(workspace, translator)],
        jobs=[dbt_cloud_job_trigger],
        resources={RESOURCE_KEY: workspace},
    )
