"""A `run: submit` spec's task as a one-time run through lakehouse's Pipes client.

The task gets what a deployed job's task gets on the same target (`platform.parameters`): the full
names of the tables it writes and reads, plus its own parameters; its env vars, dependencies and
compute come from the spec. Its path is bundle-relative (`src/...`), resolved against where the
bundle deployed its files, so the run executes the files the deploy shipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg
from lakehouse_resources.databricks import DatabricksTaskSpec, LakehouseDatabricksClient
from lakehouse_resources.platform.parameters import table_arguments
from lakehouse_resources.platform.specs import JobSpec, LoadedSpec
from lakehouse_resources.platform.targets import BundleTarget
from lakehouse_resources.settings import DatabricksCompute


def submit_compute(body: JobSpec) -> DatabricksCompute:
    if body.compute.serverless:
        return DatabricksCompute.SERVERLESS
    if body.compute.existing_cluster:
        return DatabricksCompute.EXISTING_CLUSTER
    return DatabricksCompute.JOB_CLUSTER


def submitted_task(spec: LoadedSpec, target: BundleTarget) -> DatabricksTaskSpec:
    body = spec.spec
    assert isinstance(body, JobSpec)
    [task] = body.tasks
    arguments = table_arguments(spec, target.namespace, target.name, target.warehouse_catalog)
    common: dict[str, Any] = {
        "parameters": {**task.parameters, **arguments},
        "env": dict(body.env),
        "dependencies": tuple(body.dependencies),
        "compute": submit_compute(body),
        "timeout_seconds": body.timeout_seconds,
        "tags": {"lakehouse_resource": spec.key},
    }
    if task.notebook:
        return DatabricksTaskSpec.notebook(task.notebook, **common)
    return DatabricksTaskSpec.python_file(task.path, **common)


def run_submitted(
    context: dg.AssetExecutionContext,
    databricks: LakehouseDatabricksClient,
    spec: LoadedSpec,
    target: BundleTarget,
) -> Iterator[Any]:
    from lakehouse_resources.databricks.table_metadata import with_table_schema

    task = submitted_task(spec, target)
    client = databricks.workspace_client()
    for result in databricks.run(context=context, task=task).get_results():
        yield with_table_schema(client, result)
