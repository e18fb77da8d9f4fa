"""Member and claims from generated feeds to gold: counts, quarantine, silver clean, gold idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_ops.errors import ExpectationFailed
from data_ops.log import parse_events
from data_ops.quality import Action
from lakehouse_domains.medallion.feeds import CLAIMS_FEED, MEMBER_FEED, generate
from pipeline_files import load, load_job, run_file

MEMBER = "spark_catalog.member_enrollment"
CLAIMS = "spark_catalog.claims_adjudication"
SILVER_FILES = {
    "member": ["silver/demographics.py", "silver/enrollment.py", "silver/eligibility.py"],
    "claims": ["silver/medical.py", "silver/pharmacy.py", "silver/professional.py"],
}


def configure(spark, landing: Path, schema_suffix: str = "") -> dict[str, str]:
    tables = {
        "bronze_members": f"{MEMBER}{schema_suffix}.bronze_members",
        "silver_demographics": f"{MEMBER}{schema_suffix}.silver_demographics",
        "silver_enrollment": f"{MEMBER}{schema_suffix}.silver_enrollment",
        "silver_eligibility": f"{MEMBER}{schema_suffix}.silver_eligibility",
        "gold_eligible_members": f"{MEMBER}{schema_suffix}.gold_eligible_members",
        "bronze_claim_lines": f"{CLAIMS}{schema_suffix}.bronze_claim_lines",
        "silver_medical": f"{CLAIMS}{schema_suffix}.silver_medical",
        "silver_pharmacy": f"{CLAIMS}{schema_suffix}.silver_pharmacy",
        "silver_professional": f"{CLAIMS}{schema_suffix}.silver_professional",
        "gold_paid_by_member": f"{CLAIMS}{schema_suffix}.gold_paid_by_member",
    }
    for key, table in tables.items():
        spark.conf.set(f"data_ops.{key}", table)
    return tables


def set_landing(spark, landing: Path, feed: str) -> None:
    spark.conf.set("data_ops.landing_path", str(landing / feed))


def counts_by_rule(output: str) -> dict[tuple[str, str], int]:
    counts = {}
    for report in parse_events(output, "expectations"):
        for result in report["expectations"]:
            counts[result["dataset"].rsplit(".", 1)[-1], result["name"]] = result["failed_records"]
    return counts


@pytest.fixture(scope="module")
def medallion(spark, spark_remote: str, tmp_path_factory: pytest.TempPathFactory):
    """Both domains run once to gold on a small generated feed; what they printed, and the feeds."""
    patch = pytest.MonkeyPatch()
    # The gold jobs build their session as a Python task does: SparkSession.builder.getOrCreate().
    patch.setenv("SPARK_REMOTE", spark_remote)
    landing = tmp_path_factory.mktemp("landing")
    feeds = generate(landing, rows=1_200)
    tables = configure(spark, landing)
    capture = []
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        set_landing(spark, landing, MEMBER_FEED)
        run_file("member/enrollment/bronze/members.py", spark)
        set_landing(spark, landing, CLAIMS_FEED)
        run_file("claims/adjudication/bronze/claim_lines.py", spark)
        for domain, source in (("member", "enrollment"), ("claims", "adjudication")):
            for relative in SILVER_FILES[domain]:
                run_file(f"{domain}/{source}/{relative}", spark)
        load_job("member/enrollment/gold/eligible_members.py").main(
            [
                "--silver_eligibility",
                tables["silver_eligibility"],
                "--gold_eligible_members",
                tables["gold_eligible_members"],
            ]
        )
        load_job("claims/adjudication/gold/paid_by_member.py").main(paid_args(tables))
    capture.append(buffer.getvalue())
    yield feeds, tables, capture[0]
    patch.undo()


def paid_args(tables: dict[str, str]) -> list[str]:
    return [
        "--silver_medical", tables["silver_medical"],
        "--silver_pharmacy", tables["silver_pharmacy"],
        "--silver_professional", tables["silver_professional"],
        "--member_silver_enrollment", tables["silver_enrollment"],
        "--gold_paid_by_member", tables["gold_paid_by_member"],
        "--dagster_pipes_context", "ignored-by-the-job",
    ]  # fmt: skip


def test_every_expectation_counts_exactly_the_rows_made_to_break_it(medallion) -> None:
    feeds, _, output = medallion
    counts = counts_by_rule(output)
    broken = {key: value for key, value in counts.items() if value}
    assert broken == dict(feeds.expected_failures)
    # Rules nobody broke are still reported, with zero failures.
    assert counts["silver_demographics", "member_id_format"] == 0


def test_bronze_quarantines_bad_lines_with_file_line_and_reason(spark, medallion) -> None:
    _, tables, _ = medallion
    rows = spark.sql(
        f"SELECT _source_file, _source_line, _quarantine_reason FROM {tables['bronze_members']} "
        "WHERE _quarantine_reason IS NOT NULL ORDER BY _source_line"
    ).collect()
    reasons = [row._quarantine_reason for row in rows]
    assert reasons == ["malformed JSON object", "malformed JSON object", "premium: 'abc' is not double"]
    assert all(row._source_file.endswith("part-00000.jsonl") for row in rows)
    first_bad_line = rows[0]._source_line
    assert (
        Path(rows[0]._source_file.removeprefix("file:")).read_text().splitlines()[first_bad_line - 1]
    ).startswith('{"member_id": "M9000001", "first_name": ')
    claims = spark.sql(
        f"SELECT _quarantine_reason FROM {tables['bronze_claim_lines']} WHERE _quarantine_reason IS NOT NULL"
    ).collect()
    assert sorted(row._quarantine_reason for row in claims) == [
        "expected 14 fields (header), found 16",
        "expected 14 fields (header), found 4",
        "paid_amount: 'n/a' is not double",
    ]


def test_schema_drift_is_reported_on_the_rows_not_dropped(spark, medallion) -> None:
    _, tables, _ = medallion
    added = spark.sql(
        f"SELECT DISTINCT _rescued_columns[0] AS c FROM {tables['bronze_claim_lines']} WHERE _rescued_columns IS NOT NULL"
    ).collect()
    assert [row.c for row in added] == ["modifier_code"]
    missing = spark.sql(
        f"SELECT _missing_columns FROM {tables['bronze_members']} WHERE _missing_columns IS NOT NULL"
    ).collect()
    assert [list(row._missing_columns) for row in missing] == [["zip"]]
    drifted_claims = spark.sql(
        f"SELECT count(*) AS n FROM {tables['silver_medical']} m JOIN {tables['bronze_claim_lines']} b "
        "USING (claim_id, line_number) WHERE b._rescued_columns IS NOT NULL AND b.claim_type = 'medical'"
    ).collect()[0]
    bronze_drifted_medical = spark.sql(
        f"SELECT count(*) AS n FROM {tables['bronze_claim_lines']} WHERE _rescued_columns IS NOT NULL AND claim_type = 'medical'"
    ).collect()[0]
    assert drifted_claims.n == bronze_drifted_medical.n


@pytest.mark.usefixtures("medallion")
def test_silver_holds_no_row_violating_a_drop_or_fail_rule(spark) -> None:
    for domain, source in (("member", "enrollment"), ("claims", "adjudication")):
        for relative in SILVER_FILES[domain]:
            module, registry = load(f"{domain}/{source}/{relative}", spark)
            [flow] = registry.flows
            for rule in module.EXPECTATIONS:
                if rule.action is not Action.WARN:
                    bad = spark.sql(
                        f"SELECT count(*) AS n FROM {flow.target} WHERE NOT coalesce({rule.constraint}, false)"
                    ).collect()[0]
                    assert (flow.target, rule.name, bad.n) == (flow.target, rule.name, 0)


def test_gold_answers_the_analyst_questions_and_a_rerun_adds_nothing(spark, medallion) -> None:
    _, tables, _ = medallion
    gold = tables["gold_paid_by_member"]
    before = sorted((tuple(row) for row in spark.read.table(gold).collect()), key=str)
    load_job("claims/adjudication/gold/paid_by_member.py").main(paid_args(tables))
    assert sorted((tuple(row) for row in spark.read.table(gold).collect()), key=str) == before
    paid_total = spark.sql(f"SELECT round(sum(paid_amount), 2) AS p FROM {gold}").collect()[0].p
    silver_paid = (
        spark.sql(
            " UNION ALL ".join(
                f"SELECT paid_amount FROM {tables[t]} WHERE status = 'paid'"
                for t in ("silver_medical", "silver_pharmacy", "silver_professional")
            ).join(("SELECT round(sum(paid_amount), 2) AS p FROM (", ")"))
        )
        .collect()[0]
        .p
    )
    assert paid_total == pytest.approx(silver_paid)
    eligible = (
        spark.sql(f"SELECT sum(eligible_members) AS n FROM {tables['gold_eligible_members']}").collect()[0].n
    )
    member_months = (
        spark.sql(
            f"SELECT count(DISTINCT member_id, plan_id, eligibility_month) AS n FROM {tables['silver_eligibility']}"
        )
        .collect()[0]
        .n
    )
    assert eligible == member_months


def test_a_fail_rule_stops_silver_before_writing_and_keeps_the_previous_table(
    spark, medallion, tmp_path
) -> None:
    _, tables, _ = medallion
    before = spark.read.table(tables["silver_demographics"]).count()
    landing = tmp_path / "landing"
    generate(landing, rows=300, break_fail_rules=True)
    configure(spark, landing, schema_suffix="_failing")
    set_landing(spark, landing, MEMBER_FEED)
    run_file("member/enrollment/bronze/members.py", spark)
    configure(spark, landing)  # silver reads the failing bronze but writes the real silver table
    spark.conf.set("data_ops.bronze_members", f"{MEMBER}_failing.bronze_members")
    with pytest.raises(
        ExpectationFailed,
        match=r"1 record\(s\) of .*silver_demographics violate expectation 'member_id_format'",
    ):
        run_file("member/enrollment/silver/demographics.py", spark)
    assert spark.read.table(tables["silver_demographics"]).count() == before
