"""Gold (job): eligible members per plan and month, merged on (plan, month), deleting the plan-months
silver no longer has: gold equals a full recompute, and a re-run changes nothing.

A Python task; the bundle passes the tables: `--silver_eligibility_table=<t> --gold_eligible_members_table=<t>`.
"""

import sys

from data_ops.config import Parameters, TableName, from_args
from data_ops.log import get_logger
from data_ops.pipes import open_pipes, report_commit
from data_ops.tables import TableManager
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

KEYS = ["plan_id", "eligibility_month"]
log = get_logger("member.enrollment.gold")


class EligibleMembers(Parameters):
    silver_eligibility_table: TableName
    gold_eligible_members_table: TableName


def eligible_members(eligibility: DataFrame) -> DataFrame:
    return eligibility.groupBy(*KEYS).agg(
        F.countDistinct("member_id").alias("eligible_members"),
        F.countDistinct(F.when(F.col("relationship") == "subscriber", F.col("member_id"))).alias(
            "subscribers"
        ),
    )


def main(argv: list[str]) -> None:
    params = from_args(argv, EligibleMembers, other_prefixes=("dagster_pipes",))
    with open_pipes(argv) as pipes:
        spark = SparkSession.builder.getOrCreate()
        gold = eligible_members(spark.read.table(str(params.silver_eligibility_table)))
        # A full recompute from silver: a plan-month whose members all left leaves gold too.
        commit = TableManager(spark).merge(
            gold, params.gold_eligible_members_table, KEYS, delete_missing=True
        )
        log.info(
            "%s: version %d, %s rows", params.gold_eligible_members_table, commit.version, commit.output_rows
        )
        report_commit(pipes, params.gold_eligible_members_table, commit)


if __name__ == "__main__":
    main(sys.argv[1:])
