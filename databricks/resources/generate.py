"""Specs to databricks-bundles resources: names from the policy, tables from the target's namespace rule.

Paths stay bundle references (`${workspace.file_path}/src/...`) for the CLI to resolve, as in a
hand-written resource; everything named is built from the spec's fields, never parsed back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from databricks.bundles.core import Resources
from databricks.bundles.jobs import Job
from databricks.bundles.pipelines import Pipeline
from lakehouse_resources.platform.naming import NamespaceRule, ResourceName
from lakehouse_resources.platform.parameters import table_arguments, upstream, upstream_key
from lakehouse_resources.platform.specs import (
    Dataset,
    JobSpec,
    LoadedSpec,
    PipelineSpec,
    SpecError,
    load_specs,
)
from lakehouse_resources.platform.targets import NAMESPACE_VARIABLES, WAREHOUSE_CATALOG

FILES = "${workspace.file_path}"
JOB_CLUSTER_KEY = "main"
# Tasks report to Dagster through Pipes when an orchestrated run bootstraps it.
PIPES = "dagster-pipes==1.13.27"
ENVIRONMENT_KEY = "default"
# The data_ops wheel the bundle's `data_ops` artifact builds (databricks.yml) into databricks/dist/.
# The CLI resolves a relative path in a Python-defined resource from the bundle root (not from this
# file), uploads the wheel the build just made and puts its workspace path in place.
DATA_OPS_WHEEL = "dist/data_ops-*.whl"


def namespace(variables: Mapping[str, Any]) -> NamespaceRule:
    return NamespaceRule(**{part: str(variables[var]) for part, var in NAMESPACE_VARIABLES.items()})


def table_conf(name: ResourceName) -> str:
    """The pipeline configuration key holding a dataset's full name."""
    return f"lakehouse.table.{name.layer.value}.{name.asset}"


def expectations_conf(name: ResourceName) -> str:
    return f"lakehouse.expectations.{name.layer.value}.{name.asset}"


def same_update_conf(name: ResourceName) -> str:
    """The key listing the datasets this one reads that its own pipeline writes (same update)."""
    return f"lakehouse.same_update_inputs.{name.layer.value}.{name.asset}"


def _same_update_inputs(spec: LoadedSpec, dataset: Dataset) -> list[str]:
    written = {f"{spec.table_name(d).layer.value}.{d.name}" for d in spec.spec.datasets}
    return [ref for ref in dataset.depends_on if ref in written]


def _expectations_json(dataset: Dataset) -> str:
    rules = [e.model_dump(exclude={"tolerance"}) for e in dataset.expectations]
    return json.dumps(rules, separators=(",", ":"))


def _tags(spec: LoadedSpec, target: str, extra: Mapping[str, str] = {}) -> dict[str, str]:
    # lakehouse_bundle and lakehouse_target mark what a deploy to this target owns (and may delete).
    return {
        "lakehouse_bundle": "${bundle.name}",
        "lakehouse_target": target,
        "lakehouse_domain": spec.name.domain,
        "lakehouse_source": spec.name.source,
        "lakehouse_layer": spec.name.layer.value,
        "lakehouse_resource": spec.key,
        **extra,
    }


def job(spec: LoadedSpec, target: str, variables: Mapping[str, Any]) -> Job:
    body = spec.spec
    assert isinstance(body, JobSpec)
    rule = namespace(variables)
    # A job reads and writes tables by the names this target gives them, never by building one.
    arguments = table_arguments(spec, rule, target, str(variables[WAREHOUSE_CATALOG]))
    tables = [f"--{parameter}={name}" for parameter, name in arguments.items()]
    monitor = (
        [
            f"--max_trigger_execution_ms={body.stream_monitor.max_trigger_execution_ms}",
            f"--max_backlog_streak={body.stream_monitor.max_backlog_streak}",
            f"--max_seconds={variables['stream_max_seconds']}",
            f"--max_batches={variables['stream_max_batches']}",
            f"--checkpoint={_landing(variables, spec)}/_checkpoints/{spec.key}",
        ]
        if body.stream_monitor
        else []
    )
    compute: dict[str, Any]
    if body.compute.serverless:
        compute = {"environment_key": ENVIRONMENT_KEY}
    else:
        compute = {"job_cluster_key": JOB_CLUSTER_KEY}
    tasks = []
    for task in body.tasks:
        entry: dict[str, Any] = {
            "task_key": task.key,
            "depends_on": [{"task_key": dep} for dep in task.depends_on],
            **compute,
        }
        if not body.compute.serverless:
            entry["libraries"] = [{"pypi": {"package": PIPES}}, {"whl": DATA_OPS_WHEEL}]
        if task.python_file:
            parameters = [f"--{k}={v}" for k, v in task.parameters.items()]
            entry["spark_python_task"] = {
                "python_file": f"{FILES}/{task.python_file}",
                "parameters": [*parameters, *tables, *monitor],
            }
        else:
            widgets = {**task.parameters, **arguments}
            for arg in monitor:
                name, _, value = arg.removeprefix("--").partition("=")
                widgets[name] = value
            entry["notebook_task"] = {"notebook_path": f"{FILES}/{task.notebook}", "base_parameters": widgets}
        tasks.append(entry)
    settings: dict[str, Any] = {
        "name": spec.name.deployed(target),
        "description": body.description,
        "tasks": tasks,
        "max_concurrent_runs": body.max_concurrent_runs,
        "timeout_seconds": body.timeout_seconds,
        "tags": _tags(spec, target, body.tags),
    }
    if body.compute.serverless:
        settings["environments"] = [
            {
                "environment_key": ENVIRONMENT_KEY,
                "spec": {"client": "2", "dependencies": [PIPES, DATA_OPS_WHEEL]},
            }
        ]
    else:
        settings["job_clusters"] = [
            {
                "job_cluster_key": JOB_CLUSTER_KEY,
                "new_cluster": {
                    "spark_version": body.compute.spark_version,
                    # Per target (a variable): node types differ between clouds.
                    "node_type_id": body.compute.node_type_id or "${var.node_type_id}",
                    "num_workers": body.compute.num_workers,
                    "spark_conf": dict(body.compute.spark_conf),
                    # Unity Catalog needs an access mode; a job cluster serves its job's one identity.
                    "data_security_mode": "SINGLE_USER",
                },
            }
        ]
    if body.continuous:
        # No pause status here: the target's mode or `presets.trigger_pause_status` sets it (the
        # CLI leaves a status that is given alone), so only prod runs continuously. A stream that
        # fails is retried (and an empty `continuous` would be dropped as unset).
        settings["continuous"] = {"task_retry_mode": "ON_FAILURE"}
    # Never a `schedule` (the spec refuses one): Dagster is the one scheduler of the bundle's work.
    return Job.from_dict(settings)  # type: ignore[arg-type]


def _landing(variables: Mapping[str, Any], spec: LoadedSpec) -> str:
    return str(variables["landing_root"]).format(domain=spec.name.domain, source=spec.name.source)


def pipeline(spec: LoadedSpec, target: str, variables: Mapping[str, Any]) -> Pipeline:
    body = spec.spec
    assert isinstance(body, PipelineSpec)
    rule = namespace(variables)
    home = rule.resolve(spec.name, target)
    configuration = {"lakehouse.landing_root": _landing(variables, spec)}
    for dataset in body.datasets:
        name = spec.table_name(dataset)
        configuration[table_conf(name)] = str(rule.resolve(name, target))
        if dataset.expectations:
            configuration[expectations_conf(name)] = _expectations_json(dataset)
            # Off Databricks the rules are counted when the file loads, which sees only inputs
            # written before this update: data_ops needs to know which inputs are not.
            inputs = _same_update_inputs(spec, dataset)
            if inputs:
                configuration[same_update_conf(name)] = json.dumps(inputs, separators=(",", ":"))
    for name in upstream(spec):
        configuration[f"lakehouse.table.{upstream_key(spec, name)}"] = str(rule.resolve(name, target))
    configuration.update(body.configuration)
    libraries = [
        {"file": {"path": f"{FILES}/{lib}"}}
        if lib.endswith(".py")
        else {"glob": {"include": f"{FILES}/{lib}/**"}}
        for lib in body.libraries
    ]
    return Pipeline.from_dict(
        {  # type: ignore[arg-type]
            "name": spec.name.deployed(target),
            "catalog": home.catalog,
            "schema": home.schema,
            "root_path": f"{FILES}/src",
            "libraries": libraries,
            "configuration": configuration,
            "environment": {"dependencies": [DATA_OPS_WHEEL]},
            "continuous": body.continuous,
            "serverless": body.serverless,
            "channel": body.channel,
            # `mode: development` (dev) turns this on; `mode: production` refuses it.
            "development": False,
            "tags": _tags(spec, target),
        }
    )


def generate(root: Path, target: str, variables: Mapping[str, Any]) -> Resources:
    resources = Resources()
    try:
        specs = load_specs(root)
    except SpecError as exc:
        for problem in exc.problems:
            resources.add_diagnostic_error(problem)
        return resources
    for spec in specs.jobs:
        if isinstance(spec.spec, JobSpec) and spec.spec.run == "submit":
            continue  # Dagster submits it as a one-time run; the deploy ships its files, no job
        resources.add_job(spec.key, job(spec, target, variables))
    for spec in specs.pipelines:
        resources.add_pipeline(spec.key, pipeline(spec, target, variables))
    return resources
