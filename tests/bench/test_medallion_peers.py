"""The medallion benchmark's peers: the equality check of gold tables catches a changed or missing row,
and the hand-written Spark job and DuckDB agree on tiny feeds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from lakehouse_cli.bench import medallion_peers as peers
from lakehouse_cli.bench.medallion_feeds import CLAIMS_FEED, MEMBER_FEED, feed_folder, generate
from pyspark.sql import SparkSession

DOMAINS = ("member", "claims")


def _landings(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "volumes"
    generate(root, rows=2_000)
    return feed_folder(root, MEMBER_FEED), feed_folder(root, CLAIMS_FEED)


def _python_checksum(rows: list[tuple[object, ...]], domain: str) -> int:
    """The checksum as `medallion_peers` defines it, computed in Python from the fetched rows."""
    columns = peers.GOLD[domain][1]
    total = 0
    for row in rows:
        text = []
        for column, value in zip(columns, row, strict=True):
            if value is None:
                text.append("<null>")
            elif column == "paid_amount":
                text.append(str(round(float(value) * 100)))  # type: ignore[arg-type]
            else:
                text.append(str(value))
        total += int(hashlib.md5("|".join(text).encode()).hexdigest()[:15], 16)
    return total


def test_duckdb_gold_checksum_and_a_tampered_table_fails(tmp_path: Path) -> None:
    member, claims = _landings(tmp_path)
    con = duckdb.connect(str(tmp_path / "peer.duckdb"))
    peers.duckdb_gold(con, member, claims, DOMAINS)
    for domain, (table, columns) in peers.GOLD.items():
        got = peers.fingerprint_duckdb(con, table, domain)
        rows = con.sql(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        assert got.rows == len(rows) > 10
        assert got.checksum == _python_checksum(rows, domain)
        peers.check_same(got, peers.fingerprint_duckdb(con, table, domain), table)
    good = peers.fingerprint_duckdb(con, "paid_by_member", "claims")
    con.sql("UPDATE paid_by_member SET paid_amount = paid_amount + 0.01 WHERE rowid = 3")
    with pytest.raises(peers.GoldMismatch, match="paid_by_member"):
        peers.check_same(good, peers.fingerprint_duckdb(con, "paid_by_member", "claims"), "paid_by_member")
    members = peers.fingerprint_duckdb(con, "eligible_members", "member")
    con.sql("DELETE FROM eligible_members WHERE rowid = 0")
    with pytest.raises(peers.GoldMismatch, match="rows"):
        peers.check_same(
            members, peers.fingerprint_duckdb(con, "eligible_members", "member"), "eligible_members"
        )


def test_spark_job_equals_duckdb_and_a_tampered_spark_table_fails(
    tmp_path: Path, spark_remote: str, spark: SparkSession
) -> None:
    member, claims = _landings(tmp_path)
    database = "spark_catalog.test_medallion_peer"
    peers.spark_job(spark_remote, member, claims, DOMAINS, database=database)
    con = duckdb.connect()
    peers.duckdb_gold(con, member, claims, DOMAINS)
    for domain, (table, _) in peers.GOLD.items():
        on_spark = peers.fingerprint_spark(spark, f"{database}.{table}", domain)
        peers.check_same(on_spark, peers.fingerprint_duckdb(con, table, domain), table)
    paid = f"{database}.paid_by_member"
    row = spark.sql(f"SELECT member_id, claim_type, service_month FROM {paid} LIMIT 1").collect()[0]
    spark.sql(
        f"UPDATE {paid} SET paid_amount = paid_amount + 0.01 WHERE member_id = '{row['member_id']}'"
        f" AND claim_type = '{row['claim_type']}' AND service_month = DATE'{row['service_month']}'"
    )
    with pytest.raises(peers.GoldMismatch, match="checksum"):
        peers.check_same(
            peers.fingerprint_duckdb(con, "paid_by_member", "claims"),
            peers.fingerprint_spark(spark, paid, "claims"),
            "paid_by_member",
        )
