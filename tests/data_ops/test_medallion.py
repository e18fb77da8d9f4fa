"""Member and claims from generated feeds to gold: counts, quarantine, silver clean, gold idempotent."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from data_ops.errors import ExpectationFailed
from data_ops.log import parse_events
from lakehouse_cli.bench.medallion_feeds import generate
from medallion_conf import DOMAINS, configure, job_args, rules, set_landing
from pipeline_files import load_job, run_file

# Tables of their own: other tests on the shared Spark deploy the same domains under the local names.
SUFFIX = "_unit"
SILVER_FILES = {
    "member": ["silver/demographics.py", "silver/enrollment.py", "silver/eligibility.py"],
    "claims": ["silver/medical.py", "silver/pharmacy.py", "silver/professional.py"],
}
ELIGIBLE_ARGS = ("silver.eligibility", "gold.eligible_members")
PAID_ARGS = (
    "silver.medical", "silver.pharmacy", "silver.professional", "member.enrollment.silver.enrollment",
    "gold.paid_by_member",
)  # fmt: skip


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
    tables = configure(spark, suffix=SUFFIX)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        set_landing(spark, landing, "member")
        run_file("member/enrollment/bronze/members.py", spark)
        set_landing(spark, landing, "claims")
        run_file("claims/adjudication/bronze/claim_lines.py", spark)
        for domain, source in DOMAINS.items():
            for relative in SILVER_FILES[domain]:
                run_file(f"{domain}/{source}/{relative}", spark)
        load_job("member/enrollment/gold/eligible_members.py").main(job_args(tables, *ELIGIBLE_ARGS))
        load_job("claims/adjudication/gold/paid_by_member.py").main(paid_args(tables))
    yield feeds, tables, buffer.getvalue()
    patch.undo()


def paid_args(tables: dict[str, str]) -> list[str]:
    # A Pipes bootstrap argument is someone else's and must not trip the job's strict parameters.
    return [*job_args(tables, *PAID_ARGS), "--dagster_pipes_context=ignored-by-the-job"]


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
        f"SELECT _source_file, _source_line, _quarantine_reason FROM {tables['member.enrollment.bronze.members']} "
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
        f"SELECT _quarantine_reason FROM {tables['claims.adjudication.bronze.claim_lines']} WHERE _quarantine_reason IS NOT NULL"
    ).collect()
    assert sorted(row._quarantine_reason for row in claims) == [
        "expected 14 fields (header), found 16",
        "expected 14 fields (header), found 4",
        "paid_amount: 'n/a' is not double",
    ]


def test_schema_drift_is_reported_on_the_rows_not_dropped(spark, medallion) -> None:
    _, tables, _ = medallion
    added = spark.sql(
        f"SELECT DISTINCT _rescued_columns[0] AS c FROM {tables['claims.adjudication.bronze.claim_lines']} WHERE _rescued_columns IS NOT NULL"
    ).collect()
    assert [row.c for row in added] == ["modifier_code"]
    missing = spark.sql(
        f"SELECT _missing_columns FROM {tables['member.enrollment.bronze.members']} WHERE _missing_columns IS NOT NULL"
    ).collect()
    assert [list(row._missing_columns) for row in missing] == [["zip"]]
    drifted_claims = spark.sql(
        f"SELECT count(*) AS n FROM {tables['claims.adjudication.silver.medical']} m JOIN {tables['claims.adjudication.bronze.claim_lines']} b "
        "USING (claim_id, line_number) WHERE b._rescued_columns IS NOT NULL AND b.claim_type = 'medical'"
    ).collect()[0]
    bronze_drifted_medical = spark.sql(
        f"SELECT count(*) AS n FROM {tables['claims.adjudication.bronze.claim_lines']} WHERE _rescued_columns IS NOT NULL AND claim_type = 'medical'"
    ).collect()[0]
    assert drifted_claims.n == bronze_drifted_medical.n


def test_silver_holds_no_row_violating_a_drop_or_fail_rule(spark, medallion) -> None:
    _, tables, _ = medallion
    for domain, source in DOMAINS.items():
        for relative in SILVER_FILES[domain]:
            name = relative.removeprefix("silver/").removesuffix(".py")
            table = tables[f"{domain}.{source}.silver.{name}"]
            for rule in rules(domain, "silver", name):
                if rule["action"] != "warn":
                    bad = spark.sql(
                        f"SELECT count(*) AS n FROM {table} WHERE NOT coalesce({rule['condition']}, false)"
                    ).collect()[0]
                    assert (table, rule["name"], bad.n) == (table, rule["name"], 0)


def test_gold_answers_the_analyst_questions_and_a_rerun_adds_nothing(spark, medallion) -> None:
    _, tables, _ = medallion
    gold = tables["claims.adjudication.gold.paid_by_member"]
    before = sorted((tuple(row) for row in spark.read.table(gold).collect()), key=str)
    load_job("claims/adjudication/gold/paid_by_member.py").main(paid_args(tables))
    assert sorted((tuple(row) for row in spark.read.table(gold).collect()), key=str) == before
    paid_total = spark.sql(f"SELECT round(sum(paid_amount), 2) AS p FROM {gold}").collect()[0].p
    silver_paid = (
        spark.sql(
            " UNION ALL ".join(
                f"SELECT paid_amount FROM {tables['claims.adjudication.silver.' + t]} WHERE status = 'paid'"
                for t in ("medical", "pharmacy", "professional")
            ).join(("SELECT round(sum(paid_amount), 2) AS p FROM (", ")"))
        )
        .collect()[0]
        .p
    )
    assert paid_total == pytest.approx(silver_paid)
    eligible = (
        spark.sql(
            f"SELECT sum(eligible_members) AS n FROM {tables['member.enrollment.gold.eligible_members']}"
        )
        .collect()[0]
        .n
    )
    member_months = (
        spark.sql(
            f"SELECT count(DISTINCT member_id, plan_id, eligibility_month) AS n FROM {tables['member.enrollment.silver.eligibility']}"
        )
        .collect()[0]
        .n
    )
    assert eligible == member_months


def test_a_fail_rule_stops_silver_before_writing_and_keeps_the_previous_table(
    spark, medallion, tmp_path
) -> None:
    _, tables, _ = medallion
    silver = tables["member.enrollment.silver.demographics"]
    before = spark.read.table(silver).count()
    landing = tmp_path / "landing"
    generate(landing, rows=300, break_fail_rules=True)
    failing = configure(spark, suffix="_failing")
    set_landing(spark, landing, "member")
    run_file("member/enrollment/bronze/members.py", spark)
    configure(spark, suffix=SUFFIX)  # silver reads the failing bronze but would write the real silver table
    spark.conf.set("lakehouse.table.bronze.members", failing["member.enrollment.bronze.members"])
    with pytest.raises(
        ExpectationFailed,
        match=r"1 record\(s\) of .*silver_demographics violate expectation 'member_id_format'",
    ):
        run_file("member/enrollment/silver/demographics.py", spark)
    assert spark.read.table(silver).count() == before
