"""Gem revenue per platform from the Kaizen Wars events, reported to Dagster through Pipes.

Runs as a Databricks `spark_python_task` or as the entry point of a `python_wheel_task`: the Pipes
bootstrap and the user's arguments (`--fact_virtual_table`, a full Unity Catalog name, and
`--min_quantity`) both arrive on the command line, user env vars in the Pipes extras. It builds its
Spark session itself, as a Python task does on a workspace.
"""

import argparse
import os

from dagster_pipes import (
    PipesCliArgsParamsLoader,
    PipesUnityCatalogVolumesContextLoader,
    PipesUnityCatalogVolumesMessageWriter,
    open_dagster_pipes,
)
from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fact_virtual_table", required=True)
    parser.add_argument("--min_quantity", type=int, default=1)
    # Pipes' own arguments and the env mirror share argv; they are not ours to parse.
    args, _ = parser.parse_known_args()
    return args


def main():
    args = parse_args()
    spark = SparkSession.builder.getOrCreate()
    with open_dagster_pipes(
        context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PipesUnityCatalogVolumesMessageWriter(interval=1),
        params_loader=PipesCliArgsParamsLoader(),
    ) as pipes:
        os.environ.update(pipes.extras.get("env", {}))
        segment = os.environ.get("LAKEHOUSE_SEGMENT", "all")
        events = spark.table(args.fact_virtual_table)
        revenue = (
            events.where(F.col("quantity") >= args.min_quantity)
            .groupBy("platform")
            .agg(F.sum(F.col("quantity") * F.col("price_gems")).cast("double").alias("gems"))
            .orderBy("platform")
            .collect()
        )
        negative = events.where(F.col("price_gems") < 0).count()
        gems_by_platform = {row["platform"]: float(row["gems"]) for row in revenue}
        pipes.report_asset_materialization(
            metadata={
                "status": "ok",
                "source_table": args.fact_virtual_table,
                "gems_by_platform": {"raw_value": gems_by_platform, "type": "json"},
                "total_gems": float(sum(gems_by_platform.values())),
                "min_quantity": args.min_quantity,
                "segment": segment,
            }
        )
        pipes.report_asset_check(
            check_name="prices_are_not_negative", passed=negative == 0, metadata={"negative_prices": negative}
        )


if __name__ == "__main__":
    main()
