"""Databricks through Dagster Pipes: one resource for serverless, existing-cluster and job-cluster runs."""

from typing import TYPE_CHECKING, Any

from lakehouse_resources.databricks.resource import LakehouseDatabricksClient, databricks_client_from_settings
from lakehouse_resources.databricks.spec import DatabricksTaskSpec, TaskType, build_submit_request

if TYPE_CHECKING:
    from lakehouse_resources.databricks.pipes_client import DatabricksRunError, LakehousePipesDatabricksClient

_LAZY = {"DatabricksRunError", "LakehousePipesDatabricksClient"}


def __getattr__(name: str) -> Any:
    # The Pipes client pulls in dagster_databricks (~1.7 s): import it only when asked for.
    if name in _LAZY:
        from lakehouse_resources.databricks import pipes_client

        return getattr(pipes_client, name)
    raise AttributeError(name)


__all__ = [
    "DatabricksRunError",
    "DatabricksTaskSpec",
    "LakehouseDatabricksClient",
    "LakehousePipesDatabricksClient",
    "TaskType",
    "build_submit_request",
    "databricks_client_from_settings",
]
