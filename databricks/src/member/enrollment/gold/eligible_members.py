"""Gold (job): eligible members per plan and month, merged on (plan, month) so a re-run adds nothing.

A Python task; the bundle passes the tables: `--silver_eligibility_table=<t> --gold_eligible_members_table=<t>`.
"""

import contextlib
import sys
from typing import Any

from data_ops.config import Parameters, TableName, from_args
from data_ops.log import get_logger
from data_ops.tables import Commit, TableManager
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


def open_pipes(argv: list[str]) -> contextlib.AbstractContextManager[Any]:
    """Dagster Pipes when an orchestrator started the run with its bootstrap, else nothing."""
    if not any(arg.startswith("--dagster-pipes-context") for arg in argv):
        return contextlib.nullcontext(None)
    from dagster_pipes import (
        PipesCliArgsParamsLoader,
        PipesUnityCatalogVolumesContextLoader,
        PipesUnityCatalogVolumesMessageWriter,
        open_dagster_pipes,
    )

    return open_dagster_pipes(
        params_loader=PipesCliArgsParamsLoader(),
        context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PipesUnityCatalogVolumesMessageWriter(),
    )


def report(pipes: Any, table: object, commit: Commit) -> None:
    if pipes is not None:
        pipes.report_asset_materialization(
            metadata={
                "dagster/row_count": commit.output_rows or 0,
                "table": str(table),
                "table_version": commit.version,
                "operation": commit.operation,
            }
        )


def main(argv: list[str]) -> None:
    params = from_args(argv, EligibleMembers, other_prefixes=("dagster_pipes",))
    with open_pipes(argv) as pipes:
        spark = SparkSession.builder.getOrCreate()
        gold = eligible_members(spark.read.table(str(params.silver_eligibility_table)))
        commit = TableManager(spark).merge(gold, params.gold_eligible_members_table, KEYS)
        log.info(
            "%s: version %d, %s rows", params.gold_eligible_members_table, commit.version, commit.output_rows
        )
        report(pipes, params.gold_eligible_members_table, commit)


if __name__ == "__main__":
    main(sys.argv[1:])
