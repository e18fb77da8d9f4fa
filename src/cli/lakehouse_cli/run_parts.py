"""Split a pipeline job into parts no dependency crosses, to run as concurrent runs.

The in-process executor runs one step at a time; the member and claims domains, the jaffle shop
path, Kaizen Wars and the template domains share no asset, so each can be a run of its own while
another waits on Spark (`lakehouse pipeline` runs two at a time). Steps that open the DuckDB
warehouse still take turns through its pool (`lakehouse_resources.pools`).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster._core.execution.api import create_execution_plan

# Kinds of step that wait on the Databricks stand-in's Spark: their parts go first, being the long ones.
SPARK_KINDS = frozenset({"databricks", "spark"})


@dataclass(frozen=True)
class RunPart:
    job: dg.JobDefinition
    steps: int | None  # None: the one part is the job, whose plan its run reports
    spark_steps: int


def run_parts(job: dg.JobDefinition) -> list[RunPart]:
    """`job`'s steps grouped by the dependencies among its selected assets and checks (a step, with
    every asset and check it computes, stays whole), the parts with most Spark steps first."""
    graph = job.asset_layer.asset_graph
    selected = set(job.asset_layer.selected_asset_keys)
    nodes = [
        node
        for node in graph.assets_defs
        if node.is_executable and (set(node.keys) & selected or node.check_keys)
    ]
    owner = {key: index for index, node in enumerate(nodes) for key in node.keys if key in selected}
    group = list(range(len(nodes)))

    def root(index: int) -> int:
        while group[index] != index:
            group[index] = group[group[index]]
            index = group[index]
        return index

    for index, node in enumerate(nodes):
        touched = {parent for key in node.keys for parent in graph.get(key).parent_keys}
        touched |= {check.asset_key for check in node.check_keys}
        touched |= {dep.asset_key for spec in node.check_specs for dep in spec.additional_deps}
        for key in touched & owner.keys():
            group[root(index)] = root(owner[key])
    members: dict[int, list[dg.AssetsDefinition]] = {}
    for index, node in enumerate(nodes):
        members.setdefault(root(index), []).append(node)
    if len(members) < 2:
        return [RunPart(job, None, _spark_steps(nodes))]
    parts = []
    for part in members.values():
        subset = job.get_subset(
            asset_selection={key for node in part for key in node.keys if key in selected},
            asset_check_selection={check for node in part for check in node.check_keys},
        )
        steps = len(create_execution_plan(subset).step_keys_to_execute)
        parts.append(RunPart(subset, steps, _spark_steps(part)))
    return sorted(parts, key=lambda part: (-part.spark_steps, -(part.steps or 0)))


def _spark_steps(nodes: list[dg.AssetsDefinition]) -> int:
    return sum(1 for node in nodes if any(SPARK_KINDS & set(spec.kinds) for spec in node.specs))
