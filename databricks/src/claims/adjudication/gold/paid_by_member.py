"""Gold (job): paid amounts per member, plan, claim type and month; joins member silver for the plan.

A claim line takes the plan of the member's enrollment segment covering its service date (none:
plan_id NULL). Merged on its keys, deleting the groups silver no longer has, so gold always equals a
full recompute and a re-run changes nothing. A Python task; the bundle passes the
tables: `--silver_medical_table=<t> --silver_pharmacy_table=<t> --silver_professional_table=<t>
--member_enrollment_silver_enrollment_table=<t> --gold_paid_by_member_table=<t>`.
"""

import sys

from data_ops.config import Parameters, TableName, from_args
from data_ops.log import get_logger
from data_ops.operations.transformers import latest_per_key, month_start
from data_ops.pipes import open_pipes, report_commit
from data_ops.tables import TableManager
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

KEYS = ["member_id", "plan_id", "claim_type", "service_month"]
log = get_logger("claims.adjudication.gold")


class PaidByMember(Parameters):
    silver_medical_table: TableName
    silver_pharmacy_table: TableName
    silver_professional_table: TableName
    member_enrollment_silver_enrollment_table: TableName
    gold_paid_by_member_table: TableName


def paid_by_member(claims: dict[str, DataFrame], enrollment: DataFrame) -> DataFrame:
    lines = None
    for claim_type, df in claims.items():
        typed = df.where(F.col("status") == "paid").select(
            "claim_id", "line_number", "member_id", "service_date", "paid_amount",
            F.lit(claim_type).alias("claim_type"),
        )  # fmt: skip
        lines = typed if lines is None else lines.unionByName(typed)
    if lines is None:
        raise ValueError("paid_by_member needs at least one claim type")
    coverage = enrollment.select(
        F.col("member_id").alias("_member"), "plan_id", "coverage_start", F.col("coverage_end").alias("_end")
    )
    covered = lines.join(
        coverage,
        (lines["member_id"] == coverage["_member"])
        & lines["service_date"].between(
            coverage["coverage_start"], F.coalesce(coverage["_end"], F.lit("9999-12-31"))
        ),
        "left",
    )
    # Overlapping segments must not count a line twice: the latest segment wins.
    one_plan = latest_per_key(covered, ["claim_id", "line_number", "claim_type"], ["coverage_start"])
    return one_plan.groupBy(
        "member_id", "plan_id", "claim_type", month_start("service_date").alias("service_month")
    ).agg(F.count(F.lit(1)).alias("claim_lines"), F.round(F.sum("paid_amount"), 2).alias("paid_amount"))


def main(argv: list[str]) -> None:
    params = from_args(argv, PaidByMember, other_prefixes=("dagster_pipes",))
    with open_pipes(argv) as pipes:
        spark = SparkSession.builder.getOrCreate()
        claims = {
            "medical": spark.read.table(str(params.silver_medical_table)),
            "pharmacy": spark.read.table(str(params.silver_pharmacy_table)),
            "professional": spark.read.table(str(params.silver_professional_table)),
        }
        gold = paid_by_member(claims, spark.read.table(str(params.member_enrollment_silver_enrollment_table)))
        # A full recompute from silver: a group a reversal or a correction removed leaves gold too.
        commit = TableManager(spark).merge(gold, params.gold_paid_by_member_table, KEYS, delete_missing=True)
        log.info(
            "%s: version %d, %s rows", params.gold_paid_by_member_table, commit.version, commit.output_rows
        )
        report_commit(pipes, params.gold_paid_by_member_table, commit)


if __name__ == "__main__":
    main(sys.argv[1:])
