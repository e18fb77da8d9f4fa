"""ERP postings from landed strings to balances: plain DataFrame functions, one per layer.

The pipeline files (raw/, base/, staging/, final/) only wire these to their datasets, so each step
is unit-tested on a small DataFrame.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

RAW_POSTING_COLUMNS = ("posting_id", "account_id", "amount", "currency", "booked_at")
# Landed files are read as strings: a malformed value reaches base and is typed there, not lost.
RAW_POSTING_SCHEMA = StructType([StructField(name, StringType()) for name in RAW_POSTING_COLUMNS])


def base_postings(raw: DataFrame) -> DataFrame:
    """Type the landed columns; a value that does not cast becomes NULL for the expectations to see."""
    return raw.select(
        F.trim("posting_id").alias("posting_id"),
        F.nullif(F.trim("account_id"), F.lit("")).alias("account_id"),
        F.col("amount").try_cast("decimal(18,2)").alias("amount"),
        F.upper(F.trim("currency")).alias("currency"),
        F.col("booked_at").try_cast("timestamp").alias("booked_at"),
    )


def account_daily(base: DataFrame) -> DataFrame:
    """Debits (negative amounts), credits and postings per account and booking day."""
    return base.groupBy("account_id", F.to_date("booked_at").alias("booking_date")).agg(
        F.sum(F.when(F.col("amount") < 0, -F.col("amount")).otherwise(0)).alias("debits"),
        F.sum(F.when(F.col("amount") >= 0, F.col("amount")).otherwise(0)).alias("credits"),
        F.count(F.lit(1)).alias("postings"),
    )


def account_balances(daily: DataFrame) -> DataFrame:
    """Balance (credits - debits) and the last booking day of every account."""
    return daily.groupBy("account_id").agg(
        (F.sum("credits") - F.sum("debits")).alias("balance"),
        F.max("booking_date").alias("last_booking_date"),
        F.sum("postings").alias("postings"),
    )
