"""Silver: professional claim lines, the latest version of each (claim, line) the feed sent."""

from data_ops.config import Parameters, TableName, from_spark_conf
from data_ops.operations.transformers import latest_per_key, valid_rows
from data_ops.quality import Action, Expectation, expect
from pyspark import pipelines as dp
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

CLAIM_LINE_KEYS = ["claim_id", "line_number"]
EXPECTATIONS = [
    Expectation(name="claim_id_present", constraint="claim_id IS NOT NULL", action=Action.FAIL),
    Expectation(name="valid_npi", constraint="provider_npi RLIKE '^[0-9]{10}$'", action=Action.DROP),
    Expectation(name="procedure_present", constraint="procedure_code IS NOT NULL", action=Action.WARN),
]


class Professional(Parameters):
    bronze_claim_lines: TableName
    silver_professional: TableName


def professional(bronze: DataFrame) -> DataFrame:
    lines = valid_rows(bronze).where(F.col("claim_type") == "professional")
    latest = latest_per_key(lines, CLAIM_LINE_KEYS, ["received_at", "_source_file", "_source_line"])
    return latest.select(
        "claim_id",
        "line_number",
        "member_id",
        "service_date",
        "provider_npi",
        "diagnosis_code",
        "procedure_code",
        "billed_amount",
        "paid_amount",
        "status",
        "received_at",
    )


params = from_spark_conf(spark, Professional)


@dp.materialized_view(name=str(params.silver_professional), comment="Professional claim lines")
@expect(EXPECTATIONS, dataset=str(params.silver_professional))
def silver_professional() -> DataFrame:
    return professional(spark.read.table(str(params.bronze_claim_lines)))
