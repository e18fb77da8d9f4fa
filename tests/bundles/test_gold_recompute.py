"""Gold stays equal to a full recompute from silver when the sources change: a reversed claim and a
member whose coverage was withdrawn leave gold on the next run, instead of staying there for ever."""

from __future__ import annotations

import importlib
from datetime import date

import pytest

SCHEMA = "spark_catalog.gold_recompute"
CLAIMS = (
    "claim_id STRING, line_number INT, member_id STRING, service_date DATE, paid_amount DOUBLE, status STRING"
)
ENROLLMENT = "member_id STRING, plan_id STRING, coverage_start DATE, coverage_end DATE"
ELIGIBILITY = "member_id STRING, plan_id STRING, eligibility_month DATE, relationship STRING"


def rows(spark, table: str) -> list[tuple]:
    return sorted(tuple(row) for row in spark.read.table(table).collect())


def test_a_rerun_after_a_reversal_and_a_withdrawn_member_equals_a_full_recompute(
    spark, spark_remote: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_REMOTE", spark_remote)  # the jobs' getOrCreate() finds the test's server
    paid = importlib.import_module("claims.adjudication.gold.paid_by_member")
    eligible = importlib.import_module("member.enrollment.gold.eligible_members")
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    jan, feb = date(2026, 1, 5), date(2026, 2, 7)

    def silver(medical: list[tuple], eligibility: list[tuple]) -> None:
        for kind, lines in (("medical", medical), ("pharmacy", []), ("professional", [])):
            spark.createDataFrame(lines, CLAIMS).write.mode("overwrite").saveAsTable(
                f"{SCHEMA}.silver_{kind}"
            )
        enrollment = [("m1", "p1", date(2025, 1, 1), None), ("m2", "p2", date(2025, 1, 1), None)]
        spark.createDataFrame(enrollment, ENROLLMENT).write.mode("overwrite").saveAsTable(
            f"{SCHEMA}.enrollment"
        )
        spark.createDataFrame(eligibility, ELIGIBILITY).write.mode("overwrite").saveAsTable(
            f"{SCHEMA}.eligibility"
        )

    def run_gold() -> None:
        paid.main([
            f"--silver_medical_table={SCHEMA}.silver_medical",
            f"--silver_pharmacy_table={SCHEMA}.silver_pharmacy",
            f"--silver_professional_table={SCHEMA}.silver_professional",
            f"--member_enrollment_silver_enrollment_table={SCHEMA}.enrollment",
            f"--gold_paid_by_member_table={SCHEMA}.gold_paid_by_member",
        ])  # fmt: skip
        eligible.main([
            f"--silver_eligibility_table={SCHEMA}.eligibility",
            f"--gold_eligible_members_table={SCHEMA}.gold_eligible_members",
        ])  # fmt: skip

    silver(
        medical=[("c1", 1, "m1", jan, 100.0, "paid"), ("c2", 1, "m2", feb, 40.0, "paid")],
        eligibility=[
            ("m1", "p1", date(2026, 1, 1), "subscriber"),
            ("m2", "p2", date(2026, 2, 1), "subscriber"),
        ],
    )
    run_gold()
    assert len(rows(spark, f"{SCHEMA}.gold_paid_by_member")) == 2
    assert len(rows(spark, f"{SCHEMA}.gold_eligible_members")) == 2
    # m2's only claim is reversed (silver keeps the latest status) and m2's coverage is withdrawn.
    silver(
        medical=[("c1", 1, "m1", jan, 100.0, "paid"), ("c2", 1, "m2", feb, 40.0, "reversed")],
        eligibility=[("m1", "p1", date(2026, 1, 1), "subscriber")],
    )
    run_gold()
    claims = {
        kind: spark.read.table(f"{SCHEMA}.silver_{kind}") for kind in ("medical", "pharmacy", "professional")
    }
    recomputed_paid = paid.paid_by_member(claims, spark.read.table(f"{SCHEMA}.enrollment"))
    recomputed_eligible = eligible.eligible_members(spark.read.table(f"{SCHEMA}.eligibility"))
    assert rows(spark, f"{SCHEMA}.gold_paid_by_member") == sorted(tuple(r) for r in recomputed_paid.collect())
    assert rows(spark, f"{SCHEMA}.gold_eligible_members") == sorted(
        tuple(r) for r in recomputed_eligible.collect()
    )
    assert [r[0] for r in rows(spark, f"{SCHEMA}.gold_paid_by_member")] == ["m1"]
    assert [r[0] for r in rows(spark, f"{SCHEMA}.gold_eligible_members")] == ["p1"]
