"""A bundle spec as Dagster assets: its tables, their expectations as checks, and how they run.

Keys are `<domain>/<source>/<layer>/<asset>` (`asset_keys.databricks_table_key`), grouped by
domain, tagged with layer and source. Expectations become asset checks, blocking for the `fail` and
`drop` actions; a streaming job's monitor adds a blocking `stream_healthy` check. A spec's or a
dataset's `freshness` becomes the asset's freshness policy.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dagster as dg
from lakehouse_resources.asset_keys import databricks_table_key
from lakehouse_resources.databricks import LakehouseDatabricksClient
from lakehouse_resources.platform.naming import ResourceName
from lakehouse_resources.platform.specs import Dataset, Expectation, JobSpec, LoadedSpec, SpecSet
from lakehouse_resources.platform.targets import BundleTarget
from lakehouse_resources.pools import WAREHOUSE_POOL

from lakehouse_domains.defs.automation import automation_condition
from lakehouse_domains.defs.landing import landing_key

STREAM_HEALTHY = "stream_healthy"
KINDS = {"spark", "databricks"}


def asset_key(name: ResourceName) -> dg.AssetKey:
    return databricks_table_key(name)


def warehouse_reads(spec: LoadedSpec) -> list[dg.AssetKey]:
    """The assets that write the warehouse tables a job `reads` (dbt's, an ingestion's)."""
    if not isinstance(spec.spec, JobSpec):
        return []
    return [dg.AssetKey.from_user_string(read.asset) for read in spec.spec.reads.values()]


def submitted(spec: LoadedSpec) -> bool:
    return isinstance(spec.spec, JobSpec) and spec.spec.run == "submit"


def freshness_policy(spec: LoadedSpec, dataset: Dataset | None = None) -> dg.FreshnessPolicy | None:
    """The dataset's freshness, else the spec's, as Dagster's policy (None: the lakehouse default)."""
    declared = (dataset.freshness if dataset else None) or spec.spec.freshness
    if declared is None:
        return None
    warn = declared.warn_after_minutes
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(minutes=declared.fail_after_minutes),
        warn_window=timedelta(minutes=warn) if warn else None,
    )


def _dataset_spec(spec: LoadedSpec, specs: SpecSet, dataset: Dataset, target: BundleTarget) -> dg.AssetSpec:
    name = spec.table_name(dataset)
    ref = specs.table(name)
    table = target.namespace.resolve(name, target.name)
    deps = [asset_key(dep) for dep in specs.dependencies(ref)] + warehouse_reads(spec)
    if not deps and spec.kind == "pipelines":
        deps = [landing_key(spec.name.domain, spec.name.source)]  # it reads the landed files
    return dg.AssetSpec(
        key=asset_key(name),
        deps=deps,
        # A table with no upstream (the stream job's) runs by hand or on Databricks, never by a condition.
        automation_condition=automation_condition(spec, target) if deps else None,
        freshness_policy=freshness_policy(spec, dataset),
        group_name=name.domain,
        kinds=KINDS,
        tags={"layer": name.layer.value, "source": name.source},
        description=dataset.description,
        metadata={
            "table": str(table),
            "databricks_resource": spec.name.deployed(target.name),
            "spec": str(spec.path),
            "dataset_kind": dataset.kind,
        },
    )


def stream_run(target: BundleTarget) -> str:
    """What a run of a streaming job does to its table on this target (the job's two modes)."""
    batches = int(target.variables.get("stream_max_batches", "0") or 0)
    if batches:
        return (
            f"bounded: a full refresh over a fixed input ({batches} micro-batches of rate-micro-batch);"
            " each run replaces the table with the same rows"
        )
    return "unbounded: appends until cancelled; a restart resumes from its checkpoint"


def _check(key: dg.AssetKey, expectation: Expectation) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        expectation.name,
        asset=key,
        blocking=expectation.action in ("fail", "drop"),
        description=f"{expectation.action}: {expectation.condition} (tolerance {expectation.tolerance:g})",
    )


def spec_assets(spec: LoadedSpec, specs: SpecSet, target: BundleTarget) -> dg.AssetsDefinition:
    datasets = list(spec.spec.datasets)
    asset_specs = [_dataset_spec(spec, specs, d, target) for d in datasets]
    checks = [_check(asset_key(spec.table_name(d)), e) for d in datasets for e in d.expectations]
    if not asset_specs:
        # A job that declares no table is one asset named like the job.
        reads = warehouse_reads(spec)
        asset_specs = [
            dg.AssetSpec(
                key=asset_key(spec.name),
                deps=reads,
                automation_condition=automation_condition(spec, target) if reads else None,
                freshness_policy=freshness_policy(spec),
                group_name=spec.name.domain,
                kinds=KINDS,
                tags={"layer": spec.name.layer.value, "source": spec.name.source},
                description=spec.spec.description,
                metadata={"databricks_resource": spec.name.deployed(target.name), "spec": str(spec.path)},
            )
        ]
    if isinstance(spec.spec, JobSpec):
        checks += [
            dg.AssetCheckSpec(
                check,
                asset=asset_specs[0].key,
                description=f"Reported by {spec.spec.tasks[0].path} through Pipes.",
            )
            for check in spec.spec.checks
        ]
    if isinstance(spec.spec, JobSpec) and spec.spec.stream_monitor:
        monitor = spec.spec.stream_monitor
        asset_specs[0] = asset_specs[0].merge_attributes(metadata={"stream_run": stream_run(target)})
        checks.append(
            dg.AssetCheckSpec(
                STREAM_HEALTHY,
                asset=asset_specs[0].key,
                blocking=True,
                description=(
                    f"No STREAM_MONITOR_ALERT: trigger_execution_ms <= {monitor.max_trigger_execution_ms}"
                    f" and backlog_streak < {monitor.max_backlog_streak}"
                ),
            )
        )

    @dg.multi_asset(
        name=spec.key,
        specs=asset_specs,
        check_specs=checks,
        description=spec.spec.description,
        op_tags={"lakehouse/databricks_resource": spec.name.deployed(target.name)},
        # A task reading warehouse tables takes the warehouse's one slot while they are copied.
        pool=WAREHOUSE_POOL if warehouse_reads(spec) else None,
    )
    def _run(
        context: dg.AssetExecutionContext, databricks_workspace: LakehouseDatabricksClient
    ) -> Iterator[Any]:
        from lakehouse_domains.defs.runs import run_job, run_pipeline
        from lakehouse_domains.defs.submit import run_submitted

        if submitted(spec):
            yield from run_submitted(context, databricks_workspace, spec, target)
        elif spec.kind == "jobs":
            yield from run_job(
                context, databricks_workspace, spec, target, [s.key for s in asset_specs], checks
            )
        else:
            yield from run_pipeline(context, databricks_workspace, spec, target)

    return _run
