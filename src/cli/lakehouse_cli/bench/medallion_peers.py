"""Peers of the medallion domains: one hand-written Spark job and DuckDB SQL, same feeds, same gold.

`spark_job` runs `medallion_spark_job.py` (a plain PySpark script) as one process on the benchmark's
Spark Connect server; `duckdb_gold` computes the two gold tables with SQL straight over the landed
feed files into a DuckDB file (same rules as the Spark job, but CSV fields split on every comma: the
feeds quote nothing). Both must give the gold tables the domains wrote: `fingerprint_*`
reduce a gold table to its row count and a checksum (the sum over rows of the first 60 bits of the
MD5 of a canonical text of the row: NULL as `<null>`, dates ISO, amounts in cents), the same expression
in Spark SQL and DuckDB, and `check_same` raises `GoldMismatch` naming the table and both figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse_cli.bench import medallion_spark_job

# Gold table per domain, and the columns of its canonical row text, in order.
GOLD = {
    "member": ("eligible_members", ("plan_id", "eligibility_month", "eligible_members", "subscribers")),
    "claims": (
        "paid_by_member",
        ("member_id", "plan_id", "claim_type", "service_month", "claim_lines", "paid_amount"),
    ),
}
# The domains' gold tables on the local target.
DOMAIN_GOLD = {
    "member": "spark_catalog.member_enrollment.gold_eligible_members",
    "claims": "spark_catalog.claims_adjudication.gold_paid_by_member",
}
PEER_DATABASE = "spark_catalog.bench_medallion_peer"
# `medallion_spark_job.CLAIM_DROP_RULES` in DuckDB's SQL (RLIKE finds a match: regexp_matches).
DUCKDB_DROP_RULES = {
    "medical": "paid_amount <= billed_amount",
    "pharmacy": "regexp_matches(ndc_code, '^[0-9]{11}$')",
    "professional": "regexp_matches(provider_npi, '^[0-9]{10}$')",
}


class GoldMismatch(AssertionError):
    """A peer's gold table differs from the domains'."""


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    checksum: int


def _row_text(columns: tuple[str, ...], cast_text: str) -> str:
    parts = []
    for column in columns:
        if column == "paid_amount":
            value = f"CAST(CAST(ROUND({column} * 100) AS BIGINT) AS {cast_text})"
        else:
            value = f"CAST({column} AS {cast_text})"
        parts.append(f"COALESCE({value}, '<null>')")
    return " || '|' || ".join(parts)


def fingerprint_spark(spark: Any, table: str, domain: str) -> Fingerprint:
    columns = GOLD[domain][1]
    digest = f"CAST(conv(substr(md5({_row_text(columns, 'STRING')}), 1, 15), 16, 10) AS DECIMAL(38, 0))"
    row = spark.sql(f"SELECT count(*) AS n, sum({digest}) AS s FROM {table}").collect()[0]
    return Fingerprint(int(row["n"]), int(row["s"] or 0))


def fingerprint_duckdb(con: Any, table: str, domain: str) -> Fingerprint:
    columns = GOLD[domain][1]
    digest = f"CAST('0x' || substr(md5({_row_text(columns, 'VARCHAR')}), 1, 15) AS UBIGINT)"
    rows, checksum = con.sql(f"SELECT count(*), sum({digest}) FROM {table}").fetchone()
    return Fingerprint(int(rows), int(checksum or 0))


def check_same(expected: Fingerprint, actual: Fingerprint, what: str) -> None:
    if expected != actual:
        raise GoldMismatch(
            f"{what}: gold differs from the domains' ({actual.rows} rows, checksum {actual.checksum};"
            f" the domains: {expected.rows} rows, checksum {expected.checksum})"
        )


def spark_job(
    remote: str,
    member_landing: Path,
    claims_landing: Path,
    domains: tuple[str, ...],
    database: str = PEER_DATABASE,
) -> None:
    """The hand-written job, one Python process on the Connect server (as `spark-submit` of a file)."""
    command = [
        sys.executable,
        medallion_spark_job.__file__,
        f"--member-landing={member_landing}",
        f"--claims-landing={claims_landing}",
        f"--database={database}",
        "--domains",
        *domains,
    ]
    result = subprocess.run(
        command, env={**os.environ, "SPARK_REMOTE": remote}, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"the hand-written Spark job failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )


def _lines(folder: Path, pattern: str) -> str:
    """Non-blank lines of the files as (file, line, value), lines numbered from 1 within a file."""
    glob = str(folder / "**" / pattern).replace("'", "''")
    return f"""
        SELECT file, line, value FROM (
            SELECT filename AS file, unnest(parts) AS value, generate_subscripts(parts, 1) AS line
            FROM (SELECT filename, string_split(replace(content, chr(13) || chr(10), chr(10)), chr(10)) AS parts
                  FROM read_text('{glob}'))
        ) WHERE length(value) > 0
    """


def _typed(raw: dict[str, str], types: dict[str, str]) -> tuple[list[str], str]:
    duck = {
        "string": "VARCHAR",
        "int": "INTEGER",
        "double": "DOUBLE",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
    }
    columns, ok = [], []
    for name, type_name in types.items():
        value = raw[name] if type_name == "string" else f"TRY_CAST({raw[name]} AS {duck[type_name]})"
        columns.append(f"{value} AS {name}")
        ok.append(f"({raw[name]} IS NULL OR {value} IS NOT NULL)")
    return columns, " AND ".join(ok)


def duckdb_gold(con: Any, member_landing: Path, claims_landing: Path, domains: tuple[str, ...]) -> None:
    """The gold tables `eligible_members` / `paid_by_member` in `con`, by SQL over the feed files."""
    job = medallion_spark_job
    member_types = {**job.MEMBER_COLUMNS, **dict.fromkeys(job.MEMBER_STRINGS, "string")}
    paths = [f"'$.{name}'" for name in member_types]
    raw = {name: f"json[{i + 1}]" for i, name in enumerate(member_types)}
    columns, ok = _typed(raw, member_types)
    con.sql(f"""
        CREATE OR REPLACE TEMP TABLE segments AS
        WITH parsed AS (
            SELECT file, line, json_extract_string(value, [{", ".join(paths)}]) AS json
            FROM ({_lines(member_landing, "*.jsonl")})
            WHERE json_valid(value) AND json_type(value) = 'OBJECT'
        ), valid AS (
            SELECT file, line, {", ".join(columns)} FROM parsed WHERE {ok}
        ), latest AS (
            SELECT * FROM valid QUALIFY row_number() OVER (
                PARTITION BY member_id, plan_id, coverage_start
                ORDER BY updated_at DESC NULLS LAST, file DESC NULLS LAST, line DESC NULLS LAST) = 1
        )
        SELECT member_id, plan_id, relationship, coverage_start, coverage_end FROM latest
        WHERE coalesce(coverage_end IS NULL OR coverage_end >= coverage_start, false)
    """)
    if "member" in domains:
        con.sql("""
            CREATE OR REPLACE TABLE eligible_members AS
            WITH months AS (
                SELECT member_id, plan_id, relationship, CAST(unnest(generate_series(
                    date_trunc('month', coverage_start),
                    date_trunc('month', greatest(coverage_start, coalesce(coverage_end, coverage_start))),
                    INTERVAL 1 MONTH)) AS DATE) AS eligibility_month
                FROM segments
            )
            SELECT plan_id, eligibility_month, count(DISTINCT member_id) AS eligible_members,
                   count(DISTINCT CASE WHEN relationship = 'subscriber' THEN member_id END) AS subscribers
            FROM months GROUP BY ALL
        """)
    if "claims" in domains:
        fields = "fields"
        raw = {
            name: (
                f"nullif(CASE WHEN len({fields}) = len(header) AND list_position(header, '{name}') > 0"
                f" THEN replace(regexp_replace({fields}[list_position(header, '{name}')], '^\"|\"$', '', 'g'),"
                f" '\"\"', '\"') END, '')"
            )
            for name in job.CLAIM_COLUMNS
        }
        columns, ok = _typed(raw, job.CLAIM_COLUMNS)
        rules = " OR ".join(
            f"(claim_type = '{claim_type}' AND coalesce({rule}, false))"
            for claim_type, rule in DUCKDB_DROP_RULES.items()
        )
        con.sql(f"""
            CREATE OR REPLACE TABLE paid_by_member AS
            WITH lines AS ({_lines(claims_landing, "*.csv")}),
            headers AS (SELECT file, string_split(trim(value), ',') AS header FROM lines WHERE line = 1),
            rows AS (
                SELECT lines.file, line, header, string_split(value, ',') AS fields
                FROM lines JOIN headers USING (file) WHERE line > 1
            ), valid AS (
                SELECT file, line, {", ".join(columns)} FROM rows
                WHERE len(fields) = len(header) AND {ok}
            ), latest AS (
                SELECT * FROM valid WHERE claim_type IN ('medical', 'pharmacy', 'professional')
                QUALIFY row_number() OVER (
                    PARTITION BY claim_type, claim_id, line_number
                    ORDER BY received_at DESC NULLS LAST, file DESC NULLS LAST, line DESC NULLS LAST) = 1
            ), paid AS (
                SELECT claim_id, line_number, member_id, claim_type, service_date, paid_amount FROM latest
                WHERE ({rules}) AND status = 'paid'
            ), covered AS (
                SELECT paid.*, s.plan_id, s.coverage_start FROM paid LEFT JOIN segments s
                ON paid.member_id = s.member_id
                AND paid.service_date BETWEEN s.coverage_start AND coalesce(s.coverage_end, DATE '9999-12-31')
                QUALIFY row_number() OVER (
                    PARTITION BY claim_id, line_number, claim_type ORDER BY s.coverage_start DESC NULLS LAST) = 1
            )
            SELECT member_id, plan_id, claim_type, CAST(date_trunc('month', service_date) AS DATE) AS service_month,
                   count(*) AS claim_lines, round(sum(paid_amount), 2) AS paid_amount
            FROM covered GROUP BY ALL
        """)
