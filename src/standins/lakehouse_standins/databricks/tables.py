"""Unity Catalog's `GET /api/2.1/unity-catalog/tables/{full_name}`: a table's columns and format.

What an orchestrator reads to show a table's schema after a run; locally it is the stand-in's
Spark catalog that answers (the local target names tables `spark_catalog.<schema>.<table>`).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lakehouse_standins.databricks.errors import ApiError, answers_api_errors
from lakehouse_standins.databricks.spark_runtime import SparkServer, private_session

# Spark's type names as Unity Catalog's `type_name` enum spells them.
_TYPE_NAMES = {"integer": "INT", "bigint": "LONG", "long": "LONG", "smallint": "SHORT", "tinyint": "BYTE"}


def describe(remote: str, full_name: str) -> dict[str, Any]:
    catalog, schema, table = full_name.split(".")
    spark = private_session(remote)
    try:
        if not spark.catalog.tableExists(full_name):
            raise ApiError(404, "TABLE_DOES_NOT_EXIST", f"Table '{full_name}' does not exist.")
        fields = spark.table(full_name).schema.fields
        provider = spark.sql(f"DESCRIBE TABLE EXTENDED {full_name}").where("col_name = 'Provider'").collect()
    finally:
        spark.stop()
    columns = []
    for position, field in enumerate(fields):
        simple = field.dataType.simpleString()
        base = simple.split("(", 1)[0].split("<", 1)[0]
        columns.append(
            {
                "name": field.name,
                "type_text": simple,
                "type_name": _TYPE_NAMES.get(base, base.upper()),
                "position": position,
                "nullable": field.nullable,
            }
        )
    return {
        "name": table,
        "catalog_name": catalog,
        "schema_name": schema,
        "full_name": full_name,
        "table_type": "MANAGED",
        "data_source_format": (str(provider[0]["data_type"]) if provider else "parquet").upper(),
        "columns": columns,
    }


def routes(spark: SparkServer) -> list[Route]:
    async def get_table(request: Request) -> Response:
        full_name = request.path_params["full_name"]
        if len(full_name.split(".")) != 3:
            raise ApiError(
                400, "INVALID_PARAMETER_VALUE", f"'{full_name}' is not a full name catalog.schema.table."
            )
        return JSONResponse(await run_in_threadpool(describe, spark.remote(), full_name))

    return [
        Route("/api/2.1/unity-catalog/tables/{full_name}", answers_api_errors(get_table), methods=["GET"])
    ]
