"""The pipelines' DataFrame functions, on the shared local Spark (expectations: tests/data_ops)."""

from datetime import date, datetime
from decimal import Decimal

from finance.erp.transforms import account_balances, account_daily, base_postings
from pyspark.sql import SparkSession
from template_domain.template_source.staging.low_latency_stream_join_simple_job import (
    clicks,
    impressions,
    join_streams,
)
from template_domain.template_source.transforms import event_counts

RAW = ["posting_id", "account_id", "amount", "currency", "booked_at"]


def test_base_types_the_landed_strings_and_nulls_what_does_not_cast(spark: SparkSession) -> None:
    raw = spark.createDataFrame(
        [
            ("p1", " a1 ", "10.50", "eur", "2026-11-30T10:00:00"),
            ("p2", "", "ten", "usd", "not a time"),
        ],
        RAW,
    )
    rows = sorted(base_postings(raw).collect())
    assert [tuple(r) for r in rows] == [
        ("p1", "a1", Decimal("10.50"), "EUR", datetime(2026, 11, 30, 10, 0)),
        ("p2", None, None, "USD", None),
    ]


def test_daily_and_balances_add_up(spark: SparkSession) -> None:
    base = spark.createDataFrame(
        [
            ("p1", "a1", Decimal("100.00"), "EUR", datetime(2026, 11, 29, 9)),
            ("p2", "a1", Decimal("-30.00"), "EUR", datetime(2026, 11, 29, 17)),
            ("p3", "a1", Decimal("5.00"), "EUR", datetime(2026, 11, 30, 8)),
            ("p4", "a2", Decimal("-7.00"), "USD", datetime(2026, 11, 30, 8)),
        ],
        "posting_id string, account_id string, amount decimal(18,2), currency string, booked_at timestamp",
    )
    daily = account_daily(base)
    assert sorted(tuple(r) for r in daily.collect()) == [
        ("a1", date(2026, 11, 29), Decimal("30.00"), Decimal("100.00"), 2),
        ("a1", date(2026, 11, 30), Decimal("0.00"), Decimal("5.00"), 1),
        ("a2", date(2026, 11, 30), Decimal("7.00"), Decimal("0.00"), 1),
    ]
    balances = {
        r.account_id: (r.balance, r.last_booking_date, r.postings) for r in account_balances(daily).collect()
    }
    assert balances == {
        "a1": (Decimal("75.00"), date(2026, 11, 30), 3),
        "a2": (Decimal("-7.00"), date(2026, 11, 30), 1),
    }


def test_event_counts(spark: SparkSession) -> None:
    events = spark.createDataFrame(
        [("e1", "click", datetime(2026, 1, 1)), ("e2", "click", datetime(2026, 1, 2)), ("e3", "view", None)],
        "event_id string, event_type string, occurred_at timestamp",
    )
    assert sorted(tuple(r) for r in event_counts(events).collect()) == [
        ("click", 2, datetime(2026, 1, 2)),
        ("view", 1, None),
    ]


def test_join_matches_clicks_to_their_impression_within_the_window(spark: SparkSession) -> None:
    shown = spark.createDataFrame(
        [
            (0, datetime(2026, 1, 1, 10, 0)),
            (2, datetime(2026, 1, 1, 10, 0)),
            (4, datetime(2026, 1, 1, 10, 0)),
        ],
        "value long, timestamp timestamp",
    )
    clicked = spark.createDataFrame(
        # answers impression 0 after 30 s, impression 2 after 20 minutes (too late), impression 6 (never shown)
        [
            (0, datetime(2026, 1, 1, 10, 0, 30)),
            (1, datetime(2026, 1, 1, 10, 20)),
            (3, datetime(2026, 1, 1, 10, 1)),
        ],
        "value long, timestamp timestamp",
    )
    joined = join_streams(impressions(shown), clicks(clicked), "1 minute", "10 minutes")
    assert [(r.impression_id, r.seconds_to_click) for r in joined.collect()] == [(0, 30.0)]
