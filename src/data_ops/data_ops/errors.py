"""The library's errors: each names what went wrong and where (table, file, rule)."""

from __future__ import annotations


class DataOpsError(Exception):
    """Base class: everything the library raises on purpose."""


class ConfigError(DataOpsError):
    """A parameter or configuration key is missing or malformed."""


class TableError(DataOpsError):
    """A table operation could not be done; the table is left as it was."""


class ExpectationFailed(DataOpsError):
    """A `fail` expectation was violated: nothing was written."""

    def __init__(self, dataset: str, expectation: str, failed_records: int, constraint: str) -> None:
        self.dataset = dataset
        self.expectation = expectation
        self.failed_records = failed_records
        super().__init__(
            f"EXPECTATION_VIOLATION: {failed_records} record(s) of {dataset} violate expectation "
            f"'{expectation}' ({constraint}); action fail stopped the update before anything was written"
        )
