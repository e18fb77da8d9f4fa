"""Gem revenue per platform from `raw.fact_virtual`, reported to Dagster through Pipes.

Runs as a Databricks `spark_python_task` or as the entry point of a `python_wheel_task`: the Pipes
bootstrap and the user's arguments both arrive on the command line, user env vars in the Pipes extras.
"""

import argparse
import os

import duckdb
from dagster_pipes import PipesCliArgsParamsLoader, PipesUnityCatalogVolumesContextLoader, open_dagster_pipes
from lakehouse_pipes import PromptVolumesMessageWriter, table_exists

TABLE = "raw.fact_virtual"


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--min_quantity", type=int, default=1)
    # Pipes' own arguments and the env mirror share argv; they are not ours to parse.
    args, _ = parser.parse_known_args()
    return args


def main():
    args = parse_args()
    with open_dagster_pipes(
        context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PromptVolumesMessageWriter(interval=1),
        params_loader=PipesCliArgsParamsLoader(),
    ) as pipes:
        os.environ.update(pipes.extras.get("env", {}))
        segment = os.environ.get("LAKEHOUSE_SEGMENT", "all")
        warehouse = os.environ["LAKEHOUSE_DUCKDB_PATH"]
        with duckdb.connect(warehouse, read_only=True) as con:
            if not table_exists(con, TABLE):
                pipes.log.warning(f"{TABLE} is missing from {warehouse}: run the dlt load first")
                pipes.report_asset_materialization(
                    metadata={"status": "source table missing", "source_table": TABLE}
                )
                pipes.report_asset_check(
                    check_name="prices_are_not_negative",
                    passed=False,
                    metadata={"reason": f"{TABLE} does not exist in the warehouse"},
                )
                return
            rows = con.execute(
                f"""
                select platform, sum(quantity * price_gems) as gems
                from {TABLE} where quantity >= ? group by platform order by platform
                """,
                [args.min_quantity],
            ).fetchall()
            negative = con.execute(f"select count(*) from {TABLE} where price_gems < 0").fetchone()[0]
        pipes.report_asset_materialization(
            metadata={
                "status": "ok",
                "source_table": TABLE,
                "gems_by_platform": {
                    "raw_value": {platform: float(gems) for platform, gems in rows},
                    "type": "json",
                },
                "total_gems": float(sum(gems for _, gems in rows)),
                "min_quantity": args.min_quantity,
                "segment": segment,
            }
        )
        pipes.report_asset_check(
            check_name="prices_are_not_negative", passed=negative == 0, metadata={"negative_prices": negative}
        )


if __name__ == "__main__":
    main()
