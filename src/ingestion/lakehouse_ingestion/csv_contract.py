"""The declared-columns contract for CSV files, and its errors as `file:line: problem`.

DuckDB's strict reader enforces the contract while it loads (`read_csv_sql`), so a file is read
once; `check_csv` runs the same read without keeping rows, for callers that load elsewhere (Sling
pads a short row with nulls and names a loopback URL instead of the file). A stream may declare a
key (`primary_key`); a second row with the same key is refused, naming both lines.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
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
_INTEGER_TYPES = {"BIGINT", "INTEGER"}
# A file may start with a UTF-8 byte order mark (Excel writes one); DuckDB skips it, and so do we.
ENCODING = "utf-8-sig"


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
    with path.open(newline="", encoding=ENCODING) as fh:
        header = next(csv.reader(fh), [])
    if header != list(columns):
        raise CsvContractError(
            path, 1, f"header {header} does not match the declared columns {list(columns)}"
        )


def _cause(message: str) -> str:
    """DuckDB's reason, without the echoed row and the reader options it appends."""
    lines = message.split("\n")
    if lines[0].split(": ", 1)[-1].startswith("CSV Error on Line") and len(lines) > 3:
        # "CSV Error on Line: N", "Original Line: ", the row itself, then the reason.
        return next((line for line in lines[3:] if line.strip()), lines[0])
    return lines[0]


def _problem(message: str) -> str:
    if "Expected Number of Columns" in message:
        expected = re.search(r"Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)", message)
        if expected:
            return f"expected {expected.group(1)} columns, found {expected.group(2)}"
    conversion = re.search(r'Could not convert string "([^"]*)" to \'(\w+)\'', message)
    column = re.search(r'converting column "(\w+)"', message)
    if conversion and column:
        return f"column {column.group(1)}: {conversion.group(1)!r} is not a valid {conversion.group(2)}"
    too_long = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)", message)
    if too_long:
        return f"row of {int(too_long.group(2)):,} bytes is over the {int(too_long.group(1)):,}-byte limit per row"
    return _cause(message)


_ENDINGS = {b"\r\n": "CRLF", b"\n": "LF"}


def first_other_line_ending(path: Path) -> tuple[int, str, str] | None:
    """(line, its ending, the header's ending) for the first line ending unlike the header's.

    DuckDB reads one line ending per file and reports a row that ends otherwise only as "The CSV
    Parser state machine reached an invalid state", with no line.
    """
    with path.open("rb") as fh:
        header = fh.readline()
        expected = b"\r\n" if header.endswith(b"\r\n") else b"\n"
        for number, line in enumerate(fh, start=2):
            ending = b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""
            if ending and ending != expected:
                return number, _ENDINGS[ending], _ENDINGS[expected]
    return None


def contract_error(
    path: Path, exc: duckdb.Error, line_offset: int = 0, source: Path | None = None
) -> CsvContractError:
    """Translate DuckDB's reader error about `path`; `line_offset` maps lines of a tail copy back.

    `source` is the file the user wrote when `path` is such a copy: lines found by scanning are
    looked up there.
    """
    message = str(exc)
    line = _LINE.search(message)
    if line:
        return CsvContractError(source or path, int(line.group(1)) + line_offset, _problem(message))
    if "state machine reached an invalid state" in message:
        found = first_other_line_ending(source or path)
        if found:
            number, ending, expected = found
            return CsvContractError(
                source or path, number, f"line ends with {ending} but the file's lines end with {expected}"
            )
        return CsvContractError(source or path, None, "not a CSV file DuckDB can read (RFC 4180)")
    return CsvContractError(source or path, None, _problem(message))


def _key_value(raw: str, kind: str) -> object:
    if kind in _INTEGER_TYPES:
        try:
            return int(raw.strip())
        except ValueError:
            return raw
    return raw


def duplicate_key_error(path: Path, columns: Mapping[str, str], key: Sequence[str]) -> CsvContractError:
    """Name the first row whose key an earlier row already has (a slow scan: only on failure)."""
    types = duckdb_types(columns)
    positions = [list(columns).index(name) for name in key]
    seen: dict[tuple[object, ...], int] = {}
    with path.open(newline="", encoding=ENCODING) as fh:
        reader = csv.reader(fh)
        next(reader, None)
        line = reader.line_num
        for row in reader:
            start, line = line + 1, reader.line_num
            value = tuple(_key_value(row[i], types[key[n]]) for n, i in enumerate(positions))
            if value in seen:
                shown = ", ".join(f"{name}={v}" for name, v in zip(key, value, strict=True))
                return CsvContractError(
                    path, start, f"duplicate key {shown}: lines {seen[value]} and {start}"
                )
            seen[value] = start
    return CsvContractError(path, None, f"duplicate values of the key ({', '.join(key)})")


def duplicate_key_sql(relation: str, key: Sequence[str]) -> str:
    """A query returning one row when two rows of `relation` share a key."""
    names = ", ".join(f'"{name}"' for name in key)
    return f"select {names} from {relation} group by {names} having count(*) > 1 limit 1"


def check_shrink(path: Path, table: str, rows: int, previous: int | None, max_shrink: float | None) -> None:
    """Refuse a file that would empty `table`, or remove more than `max_shrink` of its rows."""
    if max_shrink is None or not previous:
        return
    if rows == 0 or rows < previous * (1 - max_shrink):
        raise CsvContractError(
            path,
            None,
            f"{rows} rows would replace the {previous} rows of {table}, a drop of"
            f" {1 - rows / previous:.0%} (more than {max_shrink:.0%} is refused, and so is an empty"
            " file); the table is unchanged. If the file is right, load it with allow_shrink: true.",
        )


def check_csv(path: Path, columns: Mapping[str, str], key: Sequence[str] = ()) -> int:
    """Return the file's row count, or raise CsvContractError naming the file and line."""
    check_header(path, columns)
    try:
        with duckdb.connect() as con:
            # A table forces each value through its cast, which count(*) alone would not.
            con.execute(f"create table rows as select * from {read_csv_sql(columns)}", [str(path)])
            if key and con.execute(duplicate_key_sql("rows", key)).fetchone():
                raise duplicate_key_error(path, columns, key)
            row = con.execute("select count(*) from rows").fetchone()
    except duckdb.Error as exc:
        raise contract_error(path, exc) from None
    return int(row[0]) if row else 0
