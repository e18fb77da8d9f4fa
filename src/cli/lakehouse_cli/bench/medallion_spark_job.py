"""The medallion benchmark's Spark peer: bronze to gold for member and claims in ONE hand-written job.

A plain PySpark script, as an engineer would write it without the bundle, the declarative
pipelines or `data_ops`: it reads the same landed feeds (`--member-landing`, `--claims-landing`)
and overwrites the same two gold tables under `--database` (Delta, the session's default format):
`eligible_members` (plan, month: distinct members and subscribers) and `paid_by_member` (member,
plan, claim type, month: paid lines and their rounded sum). Same rules as the domains: a line that
is not a JSON object / has the wrong number of CSV fields, or a value that does not cast to its
type, is left out; CSV columns are matched by each file's header (fields split on every comma: the
feeds quote nothing, and the domains' quote-aware split regex is one of their costs, see
docs/benchmarks.md); the latest version per key wins
(later lines break ties); the silver drop expectations filter the same rows; a claim line takes the
plan of the latest enrollment segment covering its service date. What it does not do: keep bronze
and silver tables, count warn expectations, check fail expectations, merge into gold. The benchmark
checks that its gold tables equal the domains' (`medallion_peers.py`).

Run: `SPARK_REMOTE=sc://... python medallion_spark_job.py --member-landing <dir> --claims-landing <dir>
--database <schema> [--domains member claims]`.
"""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

MEMBER_COLUMNS = {
    "member_id": "string",
    "birth_date": "date",
    "relationship": "string",
    "plan_id": "string",
    "coverage_start": "date",
    "coverage_end": "date",
    "premium": "double",
    "updated_at": "timestamp",
}
# The feed's other member fields are parsed too (a bad value quarantines the line).
MEMBER_STRINGS = ("first_name", "last_name", "gender", "state", "zip")
CLAIM_COLUMNS = {
    "claim_id": "string",
    "line_number": "int",
    "member_id": "string",
    "claim_type": "string",
    "service_date": "date",
    "provider_npi": "string",
    "diagnosis_code": "string",
    "procedure_code": "string",
    "ndc_code": "string",
    "days_supply": "int",
    "billed_amount": "double",
    "paid_amount": "double",
    "status": "string",
    "received_at": "timestamp",
}
# Per claim type, the silver drop expectation (a NULL result drops the line).
CLAIM_DROP_RULES = {
    "medical": "paid_amount <= billed_amount",
    "pharmacy": "ndc_code RLIKE '^[0-9]{11}$'",
    "professional": "provider_npi RLIKE '^[0-9]{10}$'",
}


def lines(spark: SparkSession, folder: str, pattern: str) -> DataFrame:
    """Non-blank lines with their file and a position that grows with the line within a file."""
    return (
        spark.read.option("pathGlobFilter", pattern)
        .option("recursiveFileLookup", "true")
        .text(folder)
        .select(
            F.col("_metadata.file_path").alias("file"),
            F.monotonically_increasing_id().alias("position"),
            F.regexp_replace("value", "\r$", "").alias("value"),
        )
        .where(F.length("value") > 0)
    )


def typed(raw: dict[str, Column], types: dict[str, str]) -> tuple[list[Column], Column]:
    """Cast each raw string to its type, and whether every non-null value cast."""
    columns, ok = [], F.lit(True)
    for name, type_name in types.items():
        value = raw[name] if type_name == "string" else raw[name].try_cast(type_name)
        columns.append(value.alias(name))
        ok = ok & (raw[name].isNull() | value.isNotNull())
    return columns, ok


def latest(df: DataFrame, keys: list[str], order: list[str]) -> DataFrame:
    window = Window.partitionBy(*keys).orderBy(*[F.col(c).desc_nulls_last() for c in order])
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def segments(spark: SparkSession, landing: str) -> DataFrame:
    """Enrollment segments: the latest valid version per (member, plan, coverage start), dates ordered."""
    names = [*MEMBER_COLUMNS, *MEMBER_STRINGS]
    schema = ", ".join(f"{name} string" for name in names)
    parsed = lines(spark, landing, "*.jsonl").select(
        "file",
        "position",
        F.json_object_keys("value").alias("keys"),
        F.from_json("value", schema).alias("json"),
    )
    raw = {name: F.col("json")[name] for name in names}
    columns, ok = typed(raw, {**MEMBER_COLUMNS, **dict.fromkeys(MEMBER_STRINGS, "string")})
    valid = (
        parsed.where(F.col("keys").isNotNull())
        .select("file", "position", *columns, ok.alias("ok"))
        .where("ok")
    )
    kept = latest(valid, ["member_id", "plan_id", "coverage_start"], ["updated_at", "file", "position"])
    ordered = F.coalesce(F.expr("coverage_end IS NULL OR coverage_end >= coverage_start"), F.lit(False))
    return kept.where(ordered).select(
        "member_id", "plan_id", "relationship", "coverage_start", "coverage_end"
    )


def eligible_members(segments: DataFrame) -> DataFrame:
    last = F.greatest("coverage_start", F.coalesce("coverage_end", "coverage_start"))
    months = segments.select(
        "member_id",
        "plan_id",
        "relationship",
        F.explode(
            F.sequence(F.trunc("coverage_start", "month"), F.trunc(last, "month"), F.expr("INTERVAL 1 MONTH"))
        ).alias("eligibility_month"),
    )
    return months.groupBy("plan_id", "eligibility_month").agg(
        F.count_distinct("member_id").alias("eligible_members"),
        F.count_distinct(F.when(F.col("relationship") == "subscriber", F.col("member_id"))).alias(
            "subscribers"
        ),
    )


def paid_claim_lines(spark: SparkSession, landing: str) -> DataFrame:
    """The paid claim lines silver keeps: valid, latest per (type, claim, line), drop rules passed."""
    all_lines = lines(spark, landing, "*.csv")
    is_header = F.col("value").startswith("claim_id,")
    headers = all_lines.where(is_header).select("file", F.split(F.trim("value"), ",").alias("header"))
    rows = (
        all_lines.where(~is_header)
        .join(F.broadcast(headers), "file")
        .withColumn("fields", F.split("value", ","))
    )
    width_ok = F.size("fields") == F.size("header")
    raw = {}
    for name in CLAIM_COLUMNS:
        position = F.array_position("header", F.lit(name)).cast("int")
        value = F.when(width_ok & (position > 0), F.element_at("fields", position))
        raw[name] = F.when(value != "", value)
    columns, ok = typed(raw, CLAIM_COLUMNS)
    valid = rows.select("file", "position", *columns, (ok & width_ok).alias("ok")).where("ok")
    valid = valid.where(F.col("claim_type").isin(*CLAIM_DROP_RULES))
    kept = latest(valid, ["claim_type", "claim_id", "line_number"], ["received_at", "file", "position"])
    passes = F.lit(False)
    for claim_type, rule in CLAIM_DROP_RULES.items():
        passes = passes | ((F.col("claim_type") == claim_type) & F.coalesce(F.expr(rule), F.lit(False)))
    return kept.where(passes & (F.col("status") == "paid")).select(
        "claim_id", "line_number", "member_id", "claim_type", "service_date", "paid_amount"
    )


def paid_by_member(paid: DataFrame, segments: DataFrame) -> DataFrame:
    coverage = segments.select(
        F.col("member_id").alias("_member"), "plan_id", "coverage_start", F.col("coverage_end").alias("_end")
    )
    covered = paid.join(
        coverage,
        (paid["member_id"] == coverage["_member"])
        & paid["service_date"].between(
            coverage["coverage_start"], F.coalesce(coverage["_end"], F.lit("9999-12-31"))
        ),
        "left",
    )
    one_plan = latest(covered, ["claim_id", "line_number", "claim_type"], ["coverage_start"])
    return one_plan.groupBy(
        "member_id", "plan_id", "claim_type", F.trunc("service_date", "month").alias("service_month")
    ).agg(F.count(F.lit(1)).alias("claim_lines"), F.round(F.sum("paid_amount"), 2).alias("paid_amount"))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--member-landing", required=True)
    parser.add_argument("--claims-landing", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--domains", nargs="+", default=["member", "claims"], choices=["member", "claims"])
    args = parser.parse_args(argv)
    spark = SparkSession.builder.getOrCreate()
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {args.database}")
    member_segments = segments(spark, args.member_landing)
    gold = {}
    if "member" in args.domains:
        gold["eligible_members"] = eligible_members(member_segments)
    if "claims" in args.domains:
        gold["paid_by_member"] = paid_by_member(paid_claim_lines(spark, args.claims_landing), member_segments)
    for name, df in gold.items():
        df.write.mode("overwrite").option("overwriteSchema", "true").saveAsTable(f"{args.database}.{name}")
        print(f"{args.database}.{name} written", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
