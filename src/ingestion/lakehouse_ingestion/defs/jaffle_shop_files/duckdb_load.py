"""Load a local CSV into a DuckDB table: the whole file, or only the bytes appended since last time.

Why not Sling for local files: at 10M payment rows on this machine kind (2 cores) Sling's CLI
took ~10-20x as long as DuckDB's own `read_csv` into a table on the same file (polars 1.5x,
pandas 1.9x, dlt 2.8-3.1x); see docs/benchmarks.md. DuckDB reads the file once with the declared
types in strict mode, so that read *is* the contract check, and its errors name file and line.

Files load together (`load_all`): one transaction for all of them, so either every table is
replaced or appended, or none is. A full load fills a staging table and swaps it in, so a rejected
file leaves the previous table as it was. A declared key is checked before the swap (a duplicate
names both lines), and so is the row count: a file that would empty a table, or shrink it by more
than `max_shrink`, is refused. What was loaded (byte size, SHA-256 per 4 MiB block, the declared
columns, the row count) is recorded in `<schema>._file_loads` in the same transaction as the data.
When the file has only grown (every loaded block hashes the same) only header + appended bytes
are read and inserted; any other change means a full reload.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lakehouse_ingestion.csv_contract import (
    check_header,
    check_shrink,
    contract_error,
    duckdb_types,
    duplicate_key_error,
    duplicate_key_sql,
    read_csv_sql,
)
from lakehouse_ingestion.defs.jaffle_shop_files.blocks import block_digests, count_lines, last_byte

STATE_TABLE = "_file_loads"


@dataclass(frozen=True)
class CsvStream:
    """A declared file: where it is, the table it fills, its columns and (optionally) its key."""

    path: Path
    table: str
    columns: Mapping[str, str]
    key: Sequence[str] = ()


@dataclass(frozen=True)
class LoadResult:
    rows_loaded: int
    row_count: int
    incremental: bool


@dataclass(frozen=True)
class _Loaded:
    columns: str
    size: int
    blocks: list[str]
    row_count: int


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class CsvTableLoader:
    """One DuckDB connection loading declared CSV files into `schema.table`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str) -> None:
        self.con, self.schema = con, schema
        con.execute(f"create schema if not exists {_q(schema)}")
        con.execute(
            f"create table if not exists {_q(schema)}.{STATE_TABLE} (object varchar primary key,"
            " path varchar, columns varchar, size bigint, blocks varchar, row_count bigint)"
        )

    def load(
        self,
        path: Path,
        table: str,
        columns: Mapping[str, str],
        *,
        key: Sequence[str] = (),
        full_refresh: bool = False,
        max_shrink: float | None = None,
    ) -> LoadResult:
        stream = CsvStream(path, table, columns, key)
        return self.load_all([stream], full_refresh=full_refresh, max_shrink=max_shrink)[table]

    def load_all(
        self, streams: Sequence[CsvStream], *, full_refresh: bool = False, max_shrink: float | None = None
    ) -> dict[str, LoadResult]:
        """Load every stream in one transaction: all tables change, or (on any error) none.

        `max_shrink` (0..1) refuses a full load that leaves a table with fewer than
        `(1 - max_shrink)` of its rows, or with none; `None` loads whatever the file holds.
        """
        for stream in streams:
            check_header(stream.path, stream.columns)
        with self._transaction():
            return {stream.table: self._load_one(stream, full_refresh, max_shrink) for stream in streams}

    def _load_one(self, stream: CsvStream, full_refresh: bool, max_shrink: float | None) -> LoadResult:
        path, table, columns = stream.path, stream.table, stream.columns
        declared = json.dumps(dict(columns))
        size = path.stat().st_size
        before = None if full_refresh else self._loaded(path, table)
        if (
            before
            and before.columns == declared
            and before.size <= size
            and last_byte(path, before.size) == b"\n"
        ):
            blocks = block_digests(path, before.size)
            if blocks == before.blocks:
                return self._append(stream, before, size)
        return self._replace(stream, declared, size, max_shrink)

    def _loaded(self, path: Path, table: str) -> _Loaded | None:
        exists = self.con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [self.schema, table],
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = self.con.execute(
            f"select columns, size, blocks, row_count from {_q(self.schema)}.{STATE_TABLE}"
            " where object = ? and path = ?",
            [table, str(path)],
        ).fetchone()
        return _Loaded(row[0], int(row[1]), json.loads(row[2]), int(row[3])) if row else None

    def _record(self, path: Path, table: str, declared: str, size: int, blocks: list[str], rows: int) -> None:
        self.con.execute(
            f"insert or replace into {_q(self.schema)}.{STATE_TABLE} values (?, ?, ?, ?, ?, ?)",
            [table, str(path), declared, size, json.dumps(blocks), rows],
        )

    def _insert(self, target: str, source: Path, columns: Mapping[str, str]) -> int:
        row = self.con.execute(
            f"insert into {target} select * from {read_csv_sql(columns)}", [str(source)]
        ).fetchone()
        return int(row[0]) if row else 0

    def _rows(self, table: str) -> int | None:
        exists = self.con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [self.schema, table],
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = self.con.execute(f"select count(*) from {_q(self.schema)}.{_q(table)}").fetchone()
        return int(row[0]) if row else 0

    def _check_keys(self, stream: CsvStream, relation: str, against: str | None = None) -> None:
        if not stream.key:
            return
        duplicate = self.con.execute(duplicate_key_sql(relation, stream.key)).fetchone()
        if not duplicate and against:
            names = ", ".join(_q(name) for name in stream.key)
            duplicate = self.con.execute(
                f"select {names} from {relation} semi join {against} using ({names}) limit 1"
            ).fetchone()
        if duplicate:
            raise duplicate_key_error(stream.path, stream.columns, stream.key)

    def _check_shrink(self, stream: CsvStream, rows: int, max_shrink: float | None) -> None:
        previous = self._rows(stream.table) if max_shrink is not None else None
        check_shrink(stream.path, f"{self.schema}.{stream.table}", rows, previous, max_shrink)

    def _replace(self, stream: CsvStream, declared: str, size: int, max_shrink: float | None) -> LoadResult:
        path, table, columns = stream.path, stream.table, stream.columns
        blocks = block_digests(path, size)
        stage = f"{_q(self.schema)}.{_q('_stage_' + table)}"
        body = ", ".join(f"{_q(name)} {kind}" for name, kind in duckdb_types(columns).items())
        self.con.execute(f"create or replace table {stage} ({body})")
        try:
            rows = self._insert(stage, path, columns)
        except duckdb.Error as exc:
            raise contract_error(path, exc) from None
        self._check_keys(stream, stage)
        self._check_shrink(stream, rows, max_shrink)
        self.con.execute(f"drop table if exists {_q(self.schema)}.{_q(table)}")
        self.con.execute(f"alter table {stage} rename to {_q(table)}")
        if path.stat().st_size == size:
            self._record(path, table, declared, size, blocks, rows)
        else:  # still being written: what was read is unknown, so the next load is a full one
            self.con.execute(f"delete from {_q(self.schema)}.{STATE_TABLE} where object = ?", [table])
        return LoadResult(rows, rows, incremental=False)

    def _append(self, stream: CsvStream, before: _Loaded, size: int) -> LoadResult:
        path, table, columns = stream.path, stream.table, stream.columns
        if size == before.size:
            return LoadResult(0, before.row_count, incremental=True)
        with path.open("rb") as fh:
            header = fh.readline()
            fh.seek(before.size)
            tail = fh.read(size - before.size)
        handle, name = tempfile.mkstemp(prefix=f"{table}.append.", suffix=".csv")
        with os.fdopen(handle, "wb") as out:
            out.write(header + tail)
        tail_file = Path(name)
        target = f"{_q(self.schema)}.{_q(table)}"
        stage = _q(f"_append_{table}")
        try:
            self.con.execute(f"create or replace temp table {stage} as select * from {target} limit 0")
            try:
                rows = self._insert(stage, tail_file, columns)
            except duckdb.Error as exc:
                # Line 1 of the copy is the header; its line 2 is the first line after the prefix.
                offset = count_lines(path, before.size) - 1
                raise contract_error(tail_file, exc, line_offset=offset, source=path) from None
            # The loaded prefix has no duplicates: only the new rows, among themselves and
            # against the table (DuckDB skips row groups whose key range cannot match).
            self._check_keys(stream, stage, against=target)
            self.con.execute(f"insert into {target} select * from {stage}")
            self.con.execute(f"drop table {stage}")
            blocks = block_digests(path, size, known=before.blocks, known_size=before.size)
            self._record(path, table, before.columns, size, blocks, before.row_count + rows)
        finally:
            tail_file.unlink(missing_ok=True)
        return LoadResult(rows, before.row_count + rows, incremental=True)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
        except BaseException:
            self.con.execute("rollback")
            raise
        self.con.execute("commit")
