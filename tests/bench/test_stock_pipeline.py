"""The `stock_dagster` case of `pipeline_<scale>`: a result that differs from the other cases' is
caught, and the report shows every case against the stock project."""

from pathlib import Path

import duckdb
import pytest
from lakehouse_cli.bench import stock_pipeline
from lakehouse_cli.bench.report import pipeline_against_stock, render
from lakehouse_cli.bench.timing import summarize


def test_a_case_that_left_other_rows_or_no_table_is_caught(tmp_path: Path) -> None:
    # The tiny benchmark run (test_bench_tiny.py) runs the stock project for real; here only the check.
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        for table in stock_pipeline.CHECKED_TABLES:
            schema, _ = table.split(".")
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {table} as select range as id from range(3)")
    expected = stock_pipeline.row_counts(db)
    stock_pipeline.check_same(expected, stock_pipeline.row_counts(db), "stock_dagster")  # equal: passes
    with duckdb.connect(str(db)) as con:  # tamper: one customer fewer, the segments gone
        con.execute("delete from marts.customers where id = 0")
        con.execute("drop table analytics.customer_segments")
    with pytest.raises(RuntimeError, match=r"stock_dagster did not do the same work") as caught:
        stock_pipeline.check_same(expected, stock_pipeline.row_counts(db), "stock_dagster")
    assert "marts.customers: expected 3, got 2" in str(caught.value)
    assert "analytics.customer_segments: expected 3, got None" in str(caught.value)
    assert "raw.raw_orders" not in str(caught.value)


def test_the_pipeline_cases_are_reported_against_the_stock_project() -> None:
    times = {"direct": [4.0, 4.0], "dagster": [6.0, 6.0], "stock_dagster": [8.0, 8.0]}
    results = {"pipeline_1M": summarize(times, "direct"), "ingest_1M": summarize({"a": [1.0]}, "a")}

    derived = pipeline_against_stock(results)

    assert list(derived) == ["pipeline_1M_vs_stock"]
    assert derived["pipeline_1M_vs_stock"]["ratios"] == {"stock_dagster": 1.0, "direct": 0.5, "dagster": 0.75}
    machine = {"cores": 2, "memory_gib": 1, "cpu": "x", "python": "3", "versions": {}, "date": "d"}
    table = render({**results, "machine": machine})
    assert "| pipeline_1M_vs_stock | dagster | 6.000 | stock_dagster | 0.75x | 2 |" in table
    assert "| pipeline_1M | stock_dagster | 8.000 | direct | 2.00x | 2 |" in table
