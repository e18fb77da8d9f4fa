"""The declared-columns contract for CSV files, and its errors as `file:line: problem`.

DuckDB's strict reader enforces the contract while it loads (`read_csv_sql`), so a file is read
once; `check_csv` runs the same read without keeping rows, for callers that load elsewhere (Sling
pads a short row with nulls and names a loopback URL instead of the file).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

# Sling's column types (what replication YAML declares) -> DuckDB types
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


def duckdb_types(columns: Mapping[str, str]) -> dict[str, str]:
    return {name: _DUCKDB_TYPES.get(kind.lower(), kind) for name, kind in columns.items()}


def read_csv_sql(columns: Mapping[str, str]) -> str:
    """A strict `read_csv(?)` with the declared names and types; the one parameter is the path."""
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in duckdb_types(columns).items())
    return (
        f"read_csv(?, header = true, columns = {{{spec}}}, auto_detect = false,"
        " strict_mode = true, null_padding = false)"
    )


def check_header(path: Path, columns: Mapping[str, str]) -> None:
    """DuckDB takes the declared names and skips the header line, so compare it here."""
    if not path.exists():
        raise CsvContractError(path, None, "file not found")
    with path.open(newline="") as fh:
        header = next(csv.reader(fh), [])
    if header != list(columns):
        raise CsvContractError(
            path, 1, f"header {header} does not match the declared columns {list(columns)}"
        )


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


def contract_error(path: Path, exc: duckdb.Error, line_offset: int = 0) -> CsvContractError:
    """Translate DuckDB's reader error; `line_offset` maps lines of a tail copy back to the file."""
    message = str(exc)
    line = _LINE.search(message)
    return CsvContractError(path, int(line.group(1)) + line_offset if line else None, _problem(message))


def check_csv(path: Path, columns: Mapping[str, str]) -> int:
    """Return the file's row count, or raise CsvContractError naming the file and line."""
    check_header(path, columns)
    # Counting every column forces each value through its cast; count(*) alone would not.
    counts = ", ".join(f'count("{name}")' for name in columns)
    try:
        with duckdb.connect() as con:
            row = con.execute(
                f"select count(*), {counts} from {read_csv_sql(columns)}", [str(path)]
            ).fetchone()
    except duckdb.Error as exc:
        raise contract_error(path, exc) from None
    return int(row[0]) if row else 0
