"""Load declarative pipeline files the way `spark-pipelines` does, and run them in-process for tests.

`load` imports a pipeline source file with `spark` injected and a registry that records its datasets
and flows instead of sending them to a server. `run_file` then evaluates each flow (which is where
the library applies expectations) and writes the result with the table manager, standing in for the
pipeline engine so domain tests need no pipeline run per case.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from data_ops.tables import TableManager
from pyspark.pipelines.flow import AutoCdcFlow, Flow
from pyspark.pipelines.graph_element_registry import GraphElementRegistry, graph_element_registration_context
from pyspark.pipelines.output import Output
from testsupport import REPO

BUNDLE_SRC = REPO / "databricks" / "src"


class RecordingRegistry(GraphElementRegistry):
    def __init__(self) -> None:
        self.outputs: dict[str, Output] = {}
        self.flows: list[Flow] = []

    def register_output(self, output: Output) -> None:
        self.outputs[output.name] = output

    def register_flow(self, flow: Flow) -> None:
        self.flows.append(flow)

    def register_auto_cdc_flow(self, flow: AutoCdcFlow) -> None:
        raise NotImplementedError("the medallion domains define no auto CDC flows")

    def register_sql(self, sql_text: str, file_path: Path) -> None:
        raise NotImplementedError("the medallion domains define no SQL files")


def load(relative: str, spark: Any) -> tuple[ModuleType, RecordingRegistry]:
    path = BUNDLE_SRC / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.__dict__["spark"] = spark
    registry = RecordingRegistry()
    with graph_element_registration_context(registry):
        spec.loader.exec_module(module)
    return module, registry


def run_file(relative: str, spark: Any) -> list[str]:
    """Evaluate and write every flow of one pipeline file; the tables written."""
    _, registry = load(relative, spark)
    manager = TableManager(spark)
    for flow in registry.flows:
        manager.overwrite(flow.func(), flow.target)
    return [flow.target for flow in registry.flows]


def load_job(relative: str) -> ModuleType:
    path = BUNDLE_SRC / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
