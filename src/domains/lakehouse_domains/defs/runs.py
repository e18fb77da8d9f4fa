"""What materializing a spec's assets does: run the deployed job or pipeline and report its tables.

Imported only when a step runs, so loading Definitions imports no Databricks SDK and calls nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
from lakehouse_resources.databricks import LakehouseDatabricksClient
from lakehouse_resources.databricks.deployed import (
    DatabricksRunError,
    FlowResult,
    dataset_identity,
    find_job,
    find_pipeline,
    flow_results,
    pipeline_events,
    pipeline_url,
    run_job_with_pipes,
    run_pipeline_update,
    update_error,
    workspace_name,
)
from lakehouse_resources.databricks.table_metadata import table_schema, with_table_schema
from lakehouse_resources.platform.specs import Expectation, LoadedSpec, PipelineSpec
from lakehouse_resources.platform.targets import BundleTarget

from lakehouse_domains.defs.assets import asset_key


def run_job(
    context: dg.AssetExecutionContext,
    databricks: LakehouseDatabricksClient,
    spec: LoadedSpec,
    target: BundleTarget,
    keys: Sequence[dg.AssetKey],
    checks: Sequence[dg.AssetCheckSpec],
) -> Iterator[Any]:
    client = databricks.workspace_client()
    job = find_job(client, workspace_name(client, target, spec.name.deployed(target.name)), target.name)
    invocation, run = run_job_with_pipes(
        context,
        client,
        job,
        volume_path=databricks.volume_path,
        poll_interval_seconds=databricks.poll_interval_seconds,
        message_interval_seconds=databricks.message_interval_seconds,
        message_grace_seconds=databricks.message_grace_seconds,
        timeout_seconds=databricks.timeout_seconds,
    )
    materialized: set[dg.AssetKey] = set()
    checked: set[tuple[dg.AssetKey, str]] = set()
    for reported in invocation.get_results():
        result = with_table_schema(client, reported)
        if isinstance(result, dg.MaterializeResult):
            materialized.add(result.asset_key or keys[0])
        elif isinstance(result, dg.AssetCheckResult):
            checked.add((result.asset_key or keys[0], result.check_name or ""))
        yield result
    link = {"databricks_run_url": dg.MetadataValue.url(run.run_page_url)} if run.run_page_url else {}
    for key in keys:
        if key not in materialized:
            # The job ran but did not report this table through Pipes: still record the run.
            yield dg.MaterializeResult(asset_key=key, metadata=link)
    for check in checks:
        if (check.asset_key, check.name) not in checked:
            yield dg.AssetCheckResult(
                asset_key=check.asset_key,
                check_name=check.name,
                passed=False,
                metadata={"reason": "the job reported no result for this check", **link},
            )


def run_pipeline(
    context: dg.AssetExecutionContext,
    databricks: LakehouseDatabricksClient,
    spec: LoadedSpec,
    target: BundleTarget,
) -> Iterator[Any]:
    body = spec.spec
    assert isinstance(body, PipelineSpec)
    client = databricks.workspace_client()
    pipeline_id = find_pipeline(
        client, workspace_name(client, target, spec.name.deployed(target.name)), target.name
    )
    update_id, state = run_pipeline_update(
        client,
        pipeline_id,
        log=context.log.info,
        poll_interval_seconds=databricks.poll_interval_seconds,
        timeout_seconds=databricks.timeout_seconds,
    )
    url = pipeline_url(client.config.host or "", pipeline_id, update_id)
    events = list(pipeline_events(client, pipeline_id))
    if state != "COMPLETED":
        raise DatabricksRunError(
            f"Databricks pipeline {spec.name.deployed(target.name)} update {update_id} ended {state}:"
            f" {update_error(events, update_id)} (update page: {url})"
        )
    results = flow_results(events, update_id)
    for dataset in body.datasets:
        name = spec.table_name(dataset)
        table = str(target.namespace.resolve(name, target.name))
        flow = results.get(dataset_identity(table))
        metadata: dict[str, Any] = {
            "table": table,
            "databricks_pipeline_url": dg.MetadataValue.url(url),
            "databricks_update_id": update_id,
        }
        if flow and flow.num_output_rows is not None:
            metadata["dagster/row_count"] = dg.MetadataValue.int(flow.num_output_rows)
        if schema := table_schema(client, table):
            metadata["dagster/column_schema"] = dg.MetadataValue.table_schema(schema)
        if flow and dataset.expectations:
            # The table's own figure; each check shows only its rule's counts.
            metadata["dropped_records"] = dg.MetadataValue.int(flow.dropped_records)
        yield dg.MaterializeResult(asset_key=asset_key(name), metadata=metadata)
        for expectation in dataset.expectations:
            yield expectation_check(asset_key(name), expectation, flow, table, update_id)


def expectation_check(
    key: dg.AssetKey, expectation: Expectation, flow: FlowResult | None, table: str, update_id: str
) -> dg.AssetCheckResult:
    """One expectation's check from its dataset's counts in the update's event log. Counts that are
    missing fail the check and say so: a rule nothing counted has not been shown to hold."""
    counted = flow.expectations.get(expectation.name) if flow else None
    passed, failed = counted or (0, 0)
    within = counted is not None and failed <= expectation.tolerance * (passed + failed)
    reason = (
        None
        if counted is not None
        else f"update {update_id}'s event log has no counts for expectation {expectation.name} of"
        f" {table}: nothing shows the rule held"
    )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=expectation.name,
        passed=within,
        description=reason,
        severity=dg.AssetCheckSeverity.ERROR if expectation.action != "warn" else dg.AssetCheckSeverity.WARN,
        metadata={
            "passed_records": passed,
            "failed_records": failed,
            "action": expectation.action,
            "condition": expectation.condition,
            "tolerance": expectation.tolerance,
            **({"reason": reason} if reason else {}),
        },
    )
