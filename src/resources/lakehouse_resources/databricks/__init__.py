"""Databricks through Dagster Pipes: one resource for serverless, existing-cluster and job-cluster runs."""

from lakehouse_resources.databricks.pipes_client import DatabricksRunError, LakehousePipesDatabricksClient
from lakehouse_resources.databricks.resource import LakehouseDatabricksClient, databricks_client_from_settings
from lakehouse_resources.databricks.spec import DatabricksTaskSpec, TaskType, build_submit_request

__all__ = [
    "DatabricksRunError",
    "DatabricksTaskSpec",
    "LakehouseDatabricksClient",
    "LakehousePipesDatabricksClient",
    "TaskType",
    "build_submit_request",
    "databricks_client_from_settings",
]
