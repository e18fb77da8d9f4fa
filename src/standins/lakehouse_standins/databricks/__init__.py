"""Local stand-in for the Databricks Jobs, Files (Unity Catalog Volumes) and Clusters APIs.

Runs really execute in child processes against the local warehouse; see `_child.py` for how a
process is made to look like Databricks compute (`dbutils.widgets`, `/Volumes/...` paths).
"""

from lakehouse_standins.databricks.app import (
    DEFAULT_CLUSTER_ID,
    DEFAULT_VOLUME,
    DatabricksStandin,
    create_databricks_app,
)
from lakehouse_standins.databricks.runs import Run, RunFault

__all__ = [
    "DEFAULT_CLUSTER_ID",
    "DEFAULT_VOLUME",
    "DatabricksStandin",
    "Run",
    "RunFault",
    "create_databricks_app",
]
