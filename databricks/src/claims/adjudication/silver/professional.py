"""Silver: professional claim lines, the latest version of each (claim, line) the feed sent."""

from data_ops.operations.transformers import latest_per_key, valid_rows
from pyspark import pipelines as dp
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from data_ops import pipelines

CLAIM_LINE_KEYS = ["claim_id", "line_number"]


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


@dp.materialized_view(
    name=str(pipelines.table_name(spark, "silver.professional")), comment="Professional claim lines"
)
@pipelines.expect(spark, "silver.professional")
def silver_professional() -> DataFrame:
    return professional(spark.read.table(str(pipelines.table_name(spark, "bronze.claim_lines"))))
