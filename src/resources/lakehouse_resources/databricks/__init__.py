"""Databricks through Dagster Pipes: one resource for serverless, existing-cluster and job-cluster runs."""

from typing import TYPE_CHECKING, Any

from lakehouse_resources.databricks.resource import LakehouseDatabricksClient, databricks_client_from_settings
from lakehouse_resources.databricks.spec import DatabricksTaskSpec, TaskType, build_submit_request

if TYPE_CHECKING:
    from lakehouse_resources.databricks.pipes_client import LakehousePipesDatabricksClient
    from lakehouse_resources.databricks.run_follower import DatabricksRunError


def __getattr__(name: str) -> Any:
    # The Pipes client pulls in dagster_databricks (~1.7 s): import it only when asked for.
    if name == "LakehousePipesDatabricksClient":
        from lakehouse_resources.databricks import pipes_client

        return pipes_client.LakehousePipesDatabricksClient
    if name == "DatabricksRunError":
        from lakehouse_resources.databricks import run_follower

        return run_follower.DatabricksRunError
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
