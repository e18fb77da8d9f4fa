"""Check a CSV file against its declared columns before it is loaded.

Sling pads a short row with nulls and DuckDB's CSV errors name a loopback URL instead of the
file, so the check runs first, with DuckDB in strict mode, and reports `file:line: problem`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

# Sling's column types -> DuckDB types
_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "text": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "decimal": "DECIMAL(18,2)",
    "bool": "BOOLEAN",
    "float": "DOUBLE",
}
_LINE = re.compile(r"Line:\s*(\d+)")


class CsvContractError(ValueError):
    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


def _problem(message: str) -> str:
    first = message.split("\n", 1)[0]
    if "Expected Number of Columns" in message:
        expected = re.search(r"Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)", message)
        if expected:
            return f"expected {expected.group(1)} columns, found {expected.group(2)}"
    conversion = re.search(r'Could not convert string "([^"]*)" to \'(\w+)\'', message)
    column = re.search(r'converting column "(\w+)"', message)
    if conversion and column:
        return f"column {column.group(1)}: {conversion.group(1)!r} is not a valid {conversion.group(2)}"
    return first


def check_csv(path: Path, columns: Mapping[str, str]) -> int:
    """Return the file's row count, or raise CsvContractError naming the file and line."""
    if not path.exists():
        raise CsvContractError(path, None, "file not found")
    with path.open(newline="") as fh:
        header = next(csv.reader(fh), [])
    if header != list(columns):
        raise CsvContractError(
            path, 1, f"header {header} does not match the declared columns {list(columns)}"
        )
    declared = {name: _DUCKDB_TYPES.get(kind.lower(), kind) for name, kind in columns.items()}
    try:
        with duckdb.connect() as con:
            # Counting every column forces each value through its cast; count(*) alone would not.
            counts = ", ".join(f'count("{name}")' for name in declared)
            row = con.execute(
                f"select count(*), {counts} from read_csv(?, header = true, columns = ?,"
                " auto_detect = false, strict_mode = true, null_padding = false)",
                [str(path), declared],
            ).fetchone()
    except duckdb.Error as exc:
        message = str(exc)
        line = _LINE.search(message)
        raise CsvContractError(path, int(line.group(1)) if line else None, _problem(message)) from None
    return int(row[0]) if row else 0
