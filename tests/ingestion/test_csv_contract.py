from pathlib import Path

import pytest
from lakehouse_ingestion.csv_contract import CsvContractError, check_csv
from lakehouse_ingestion.defs.jaffle_shop_files.assets import resolve_replication

PAYMENTS = {"id": "bigint", "order_id": "bigint", "payment_method": "string", "amount": "bigint"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "raw_payments.csv"
    path.write_text(text)
    return path


def test_valid_file_returns_its_row_count(tmp_path: Path) -> None:
    path = write(tmp_path, "id,order_id,payment_method,amount\n1,1,credit_card,100\n2,1,coupon,50\n")
    assert check_csv(path, PAYMENTS) == 2


def test_non_numeric_amount_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "id,order_id,payment_method,amount\n1,1,credit_card,100\n2,1,coupon,12x\n")
    with pytest.raises(CsvContractError) as err:
        check_csv(path, PAYMENTS)
    assert (err.value.path, err.value.line) == (path, 3)
    assert str(err.value).startswith(f"{path}:3:")
    assert "amount" in err.value.problem
    assert "12x" in err.value.problem


def test_short_row_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "id,order_id,payment_method,amount\n1,1,credit_card,100\n2,1,coupon\n3,2,coupon,5\n"
    )
    with pytest.raises(CsvContractError, match=r"raw_payments.csv:3: expected 4 columns, found 3"):
        check_csv(path, PAYMENTS)


def test_header_must_match_declared_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "id,order,method,amount\n1,1,credit_card,100\n")
    with pytest.raises(CsvContractError, match=r":1: header"):
        check_csv(path, PAYMENTS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CsvContractError, match="file not found"):
        check_csv(tmp_path / "nope.csv", PAYMENTS)


def test_replication_streams_become_absolute_file_urls(tmp_path: Path) -> None:
    replication = {"source": "LOCAL", "streams": {"a.csv": {"object": "raw.a"}, "s3://b/c.csv": {}}}
    resolved = resolve_replication(replication, tmp_path)
    assert set(resolved["streams"]) == {f"file://{tmp_path.resolve()}/a.csv", "s3://b/c.csv"}
    assert resolved["source"] == "LOCAL"


def test_one_lf_row_in_a_crlf_file_names_the_line_and_the_cause(tmp_path: Path) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_bytes(b"id,order_id,payment_method,amount\r\n1,1,coupon,1\r\n2,1,coupon,2\n3,1,coupon,3\r\n")
    with pytest.raises(CsvContractError) as err:
        check_csv(path, PAYMENTS)
    assert str(err.value) == f"{path}:3: line ends with LF but the file's lines end with CRLF"


def test_an_oversized_row_names_the_line_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_bytes(b"id,order_id,payment_method,amount\n1,1,coupon,1\n2,1," + b"x" * 5_000_000 + b",2\n")
    with pytest.raises(CsvContractError) as err:
        check_csv(path, PAYMENTS)
    assert err.value.line == 3
    assert "row of 5,000,006 bytes is over the 2,000,000-byte limit per row" in err.value.problem


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "raw_payments.csv"
    path.write_bytes(b"\xef\xbb\xbfid,order_id,payment_method,amount\r\n1,1,coupon,1\r\n")
    assert check_csv(path, PAYMENTS) == 1


def test_a_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "id,order_id,payment_method,amount\n1,1,coupon,1\n2,1,coupon,2\n01,2,coupon,3\n")
    assert check_csv(path, PAYMENTS) == 3
    with pytest.raises(CsvContractError) as err:
        check_csv(path, PAYMENTS, key=["id"])
    assert str(err.value) == f"{path}:4: duplicate key id=1: lines 2 and 4"


@pytest.mark.parametrize(
    ("ids", "duplicate"),
    [
        ([1, 2, 3], False),
        ([3, 1, 3], True),  # an integer key: checked with a bitmap of its range
        ([1, 10**12, 1], True),  # a sparse range: grouped instead
        ([-5, 7, -5], True),
    ],
)
def test_duplicate_integer_keys_are_found_whatever_their_range(
    tmp_path: Path, ids: list[int], duplicate: bool
) -> None:
    rows = "".join(f"{i},1,coupon,1\n" for i in ids)
    path = write(tmp_path, "id,order_id,payment_method,amount\n" + rows)
    if duplicate:
        with pytest.raises(CsvContractError, match="duplicate key id="):
            check_csv(path, PAYMENTS, key=["id"])
    else:
        assert check_csv(path, PAYMENTS, key=["id"]) == 3


def test_a_composite_key_is_checked_too(tmp_path: Path) -> None:
    path = write(tmp_path, "id,order_id,payment_method,amount\n1,1,coupon,1\n1,2,coupon,1\n1,1,gift_card,2\n")
    with pytest.raises(CsvContractError, match=r":4: duplicate key id=1, order_id=1: lines 2 and 4"):
        check_csv(path, PAYMENTS, key=["id", "order_id"])
