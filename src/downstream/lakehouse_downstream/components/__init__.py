from lakehouse_downstream.components.databricks_notebooks import DatabricksNotebookJobs, NotebookJob

__all__ = ["DatabricksNotebookJobs", "NotebookJob"]
