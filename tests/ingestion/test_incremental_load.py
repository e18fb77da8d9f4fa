"""DuckDB-native loads: an append inserts only new rows; anything else reloads in full."""

from pathlib import Path

import duckdb
import pytest
from lakehouse_ingestion.csv_contract import CsvContractError
from lakehouse_ingestion.defs.jaffle_shop_files import blocks
from lakehouse_ingestion.defs.jaffle_shop_files.duckdb_load import CsvStream, CsvTableLoader

PAYMENTS = {"id": "bigint", "order_id": "bigint", "payment_method": "string", "amount": "bigint"}
HEADER = "id,order_id,payment_method,amount\n"


def rows(start: int, stop: int) -> str:
    return "".join(f"{i},{i // 2},credit_card,{i * 10}\n" for i in range(start, stop))


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(tmp_path / "w.duckdb"))


def table(con: duckdb.DuckDBPyConnection, name: str = "payments") -> list[tuple]:
    return con.execute(f"select * from raw.{name} order by id").fetchall()


def test_append_loads_only_new_rows_and_equals_a_full_load(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 101))
    loader = CsvTableLoader(con, "raw")
    first = loader.load(path, "payments", PAYMENTS)
    assert (first.rows_loaded, first.row_count, first.incremental) == (100, 100, False)

    with path.open("a") as fh:
        fh.write(rows(101, 104))
    second = loader.load(path, "payments", PAYMENTS)
    assert (second.rows_loaded, second.row_count, second.incremental) == (3, 103, True)

    unchanged = loader.load(path, "payments", PAYMENTS)
    assert (unchanged.rows_loaded, unchanged.row_count) == (0, 103)

    loader.load(path, "payments", PAYMENTS, full_refresh=True)
    con.execute("create table raw.full_copy as select * from raw.payments")
    with path.open("a") as fh:
        fh.write(rows(104, 110))
    assert loader.load(path, "payments", PAYMENTS).rows_loaded == 6
    fresh = CsvTableLoader(duckdb.connect(str(tmp_path / "other.duckdb")), "raw")
    fresh.load(path, "payments", PAYMENTS)
    assert table(con) == table(fresh.con)
    assert len(table(con)) == 109


def test_changed_prefix_means_full_reload(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 51))
    loader = CsvTableLoader(con, "raw")
    loader.load(path, "payments", PAYMENTS)
    # Same length edit inside the loaded prefix, then an append: must not be taken for an append.
    text = path.read_text().replace("5,2,credit_card,50\n", "5,2,credit_card,59\n")
    path.write_text(text + rows(51, 53))
    result = loader.load(path, "payments", PAYMENTS)
    assert (result.incremental, result.rows_loaded, result.row_count) == (False, 52, 52)
    assert (5, 2, "credit_card", 59) in table(con)


def test_prefix_change_past_the_first_block_is_detected(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blocks, "BLOCK", 64)  # many blocks on a small file
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 60))
    loader = CsvTableLoader(con, "raw")
    loader.load(path, "payments", PAYMENTS)
    with path.open("a") as fh:
        fh.write(rows(60, 70))
    assert loader.load(path, "payments", PAYMENTS).incremental
    path.write_text(path.read_text().replace("58,29,credit_card,580", "58,29,credit_card,581") + rows(70, 71))
    result = loader.load(path, "payments", PAYMENTS)
    assert (result.incremental, result.row_count) == (False, 70)


def test_shrunk_file_means_full_reload(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 21))
    loader = CsvTableLoader(con, "raw")
    loader.load(path, "payments", PAYMENTS)
    path.write_text(HEADER + rows(1, 11))
    result = loader.load(path, "payments", PAYMENTS)
    assert (result.incremental, result.row_count) == (False, 10)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("104,52,coupon,12x\n", "column amount: '12x' is not a valid BIGINT"),
        ("104,52\n", "expected 4 columns"),
    ],
)
def test_malformed_appended_row_names_file_and_line_and_keeps_the_table(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, bad: str, problem: str
) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 101))
    loader = CsvTableLoader(con, "raw")
    loader.load(path, "payments", PAYMENTS)
    before = table(con)
    with path.open("a") as fh:
        fh.write(rows(101, 104) + bad + rows(105, 107))
    with pytest.raises(CsvContractError) as err:
        loader.load(path, "payments", PAYMENTS)
    # header + 100 loaded rows + 3 good appended rows: the bad row is line 105
    assert str(err.value).startswith(f"{path}:105: ")
    assert problem in err.value.problem
    assert table(con) == before
    # the state still describes the table, so fixing the row appends just the tail
    path.write_text(path.read_text().replace(bad, "104,52,coupon,1040\n"))
    result = loader.load(path, "payments", PAYMENTS)
    assert (result.incremental, result.rows_loaded, result.row_count) == (True, 6, 106)


def test_malformed_full_load_keeps_the_previous_table(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 11))
    loader = CsvTableLoader(con, "raw")
    loader.load(path, "payments", PAYMENTS)
    path.write_text(HEADER + rows(1, 5) + "5,2,coupon,oops\n")
    with pytest.raises(CsvContractError, match=r"raw_payments.csv:6: column amount"):
        loader.load(path, "payments", PAYMENTS)
    assert len(table(con)) == 10
    assert con.execute(
        "select count(*) from information_schema.tables where table_name like '_stage_%'"
    ).fetchone() == (0,)


def test_changed_declaration_means_full_reload(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 11))
    loader = CsvTableLoader(con, "raw")
    loader.load(path, "payments", PAYMENTS)
    with path.open("a") as fh:
        fh.write(rows(11, 12))
    result = loader.load(path, "payments", {**PAYMENTS, "amount": "float"})
    assert (result.incremental, result.row_count) == (False, 11)
    assert con.execute("select typeof(amount) from raw.payments limit 1").fetchone() == ("DOUBLE",)


def test_an_appended_duplicate_key_is_refused_naming_both_lines(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 101))
    loader = CsvTableLoader(con, "raw")
    loader.load(path, "payments", PAYMENTS, key=["id"])
    with path.open("a") as fh:
        fh.write(rows(101, 103) + "7,1,coupon,5\n")
    with pytest.raises(CsvContractError) as err:
        loader.load(path, "payments", PAYMENTS, key=["id"])
    assert str(err.value) == f"{path}:104: duplicate key id=7: lines 8 and 104"
    assert len(table(con)) == 100
    # Fixed, the rows are appended as usual.
    path.write_text(HEADER + rows(1, 104))
    result = loader.load(path, "payments", PAYMENTS, key=["id"])
    assert (result.incremental, result.rows_loaded, result.row_count) == (True, 3, 103)


def test_a_byte_order_mark_loads_and_appends(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + rows(1, 11)).encode())
    loader = CsvTableLoader(con, "raw")
    assert loader.load(path, "payments", PAYMENTS).row_count == 10
    with path.open("a") as fh:
        fh.write(rows(11, 13))
    result = loader.load(path, "payments", PAYMENTS)
    assert (result.incremental, result.row_count) == (True, 12)


def test_loads_together_change_every_table_or_none(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(HEADER + rows(1, 11))
    bad.write_text(HEADER + rows(1, 11))
    loader = CsvTableLoader(con, "raw")
    streams = [CsvStream(good, "good", PAYMENTS, ["id"]), CsvStream(bad, "bad", PAYMENTS, ["id"])]
    loader.load_all(streams)
    good.write_text(HEADER + rows(1, 21))
    bad.write_text(HEADER + rows(1, 5) + "5,2,coupon,oops\n")
    with pytest.raises(CsvContractError, match=r"bad.csv:6: column amount"):
        loader.load_all(streams)
    assert (len(table(con, "good")), len(table(con, "bad"))) == (10, 10)


def test_an_empty_file_never_replaces_rows_under_a_shrink_limit(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_text(HEADER + rows(1, 11))
    loader = CsvTableLoader(con, "raw")
    loader.load(path, "payments", PAYMENTS, max_shrink=1.0)
    path.write_text(HEADER)
    with pytest.raises(CsvContractError, match=r"0 rows would replace the 10 rows of raw\.payments"):
        loader.load(path, "payments", PAYMENTS, max_shrink=1.0)
    assert len(table(con)) == 10
