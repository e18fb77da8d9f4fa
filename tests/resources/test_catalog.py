"""The name Databricks code gets for a table in each environment (one rule, from the bundle overlay)."""

import pytest
from lakehouse_resources.platform.catalog import parse_table_name, warehouse_name
from lakehouse_resources.platform.naming import NamingError
from lakehouse_resources.settings import get_settings


def test_locally_the_name_follows_the_local_target_rule(clean_env) -> None:
    target = get_settings().bundle_target

    assert str(target.warehouse_table("marts", "customers")) == "spark_catalog.main_marts.customers"
    assert str(target.warehouse_table("raw", "fact_virtual")) == "spark_catalog.main_raw.fact_virtual"


def test_on_a_workspace_the_name_is_the_environment_s_catalog(clean_env) -> None:
    settings = get_settings(
        env="dev",
        databricks_host="https://dbc-0000.cloud.databricks.com",
        databricks_http_path="/sql/1.0/warehouses/0000",
    )

    assert str(settings.bundle_target.warehouse_table("marts", "customers")) == "dev_catalog.marts.customers"
    # dbt, Sling and dlt write the same catalog: the settings take it from the target.
    assert settings.catalog == "dev_catalog"
    overridden = get_settings(
        env="dev", catalog_override="team_catalog", databricks_host="https://x", databricks_http_path="/p"
    )
    assert overridden.catalog == "team_catalog"


def test_a_sql_reader_finds_a_spark_table_under_its_last_two_parts_locally() -> None:
    assert warehouse_name("spark_catalog.main_analytics.customer_tiers") == "main_analytics.customer_tiers"
    assert warehouse_name("dev_catalog.analytics.customer_tiers") == "dev_catalog.analytics.customer_tiers"


@pytest.mark.parametrize("bad", ["marts.customers", "a.b.c.d", "main.marts.cust-omers", "main..x"])
def test_a_malformed_name_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(NamingError, match="three-part name"):
        parse_table_name(bad)
