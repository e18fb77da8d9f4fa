"""The table manager: create, overwrite, merge on keys and history, whatever the table format."""

from data_ops.tables.manager import Commit, TableManager

__all__ = ["Commit", "TableManager"]
