"""Silver: pharmacy claim lines, the latest version of each (claim, line) the feed sent."""

from data_ops.config import Parameters, TableName, from_spark_conf
from data_ops.operations.transformers import latest_per_key, valid_rows
from data_ops.quality import Action, Expectation, expect
from pyspark import pipelines as dp
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

CLAIM_LINE_KEYS = ["claim_id", "line_number"]
EXPECTATIONS = [
    Expectation(name="claim_id_present", constraint="claim_id IS NOT NULL", action=Action.FAIL),
    Expectation(name="valid_ndc", constraint="ndc_code RLIKE '^[0-9]{11}$'", action=Action.DROP),
    Expectation(name="days_supply_in_range", constraint="days_supply BETWEEN 1 AND 90", action=Action.WARN),
]


class Pharmacy(Parameters):
    bronze_claim_lines: TableName
    silver_pharmacy: TableName


def pharmacy(bronze: DataFrame) -> DataFrame:
    lines = valid_rows(bronze).where(F.col("claim_type") == "pharmacy")
    latest = latest_per_key(lines, CLAIM_LINE_KEYS, ["received_at", "_source_file", "_source_line"])
    return latest.select(
        "claim_id",
        "line_number",
        "member_id",
        "service_date",
        "provider_npi",
        "ndc_code",
        "days_supply",
        "billed_amount",
        "paid_amount",
        "status",
        "received_at",
    )


params = from_spark_conf(spark, Pharmacy)


@dp.materialized_view(name=str(params.silver_pharmacy), comment="Pharmacy claim lines")
@expect(EXPECTATIONS, dataset=str(params.silver_pharmacy))
def silver_pharmacy() -> DataFrame:
    return pharmacy(spark.read.table(str(params.bronze_claim_lines)))
