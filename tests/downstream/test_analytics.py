import dagster as dg
import duckdb
from lakehouse_downstream.defs.analytics.fact_virtual import fact_virtual_count
from lakehouse_downstream.defs.analytics.segments import (
    bucket_case,
    customer_segments,
    segments_cover_every_customer,
)
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.warehouse import DuckDBWarehouse


def test_bucket_case_assigns_the_first_bucket_that_holds_the_value() -> None:
    sql = bucket_case("v", [("none", 0.0), ("low", 10.0), ("rest", None)])
    with duckdb.connect() as con:
        values = con.execute(
            f"select v, {sql} from (values (0.0), (0.01), (10.0), (10.5)) t(v) order by v"
        ).fetchall()
    assert [bucket for _, bucket in values] == ["none", "low", "low", "rest"]


def test_segments_and_counts_report_their_figures(local_settings: LakehouseSettings) -> None:
    local_settings.state_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(local_settings.duckdb_path)) as con:
        con.execute("create schema marts; create schema staging")
        con.execute(
            "create table marts.customers as select * from (values (1, 0, 0.0), (2, 1, 20.0), (3, 4, 80.0),"
            " (4, 2, 30.0)) t(customer_id, number_of_orders, customer_lifetime_value)"
        )
        con.execute(
            "create table staging.stg_kaizen_wars__fact_virtual as select * from (values ('p1', 100),"
            " ('p1', 50), ('p2', 10)) t(player_id, total_gems)"
        )
    result = dg.materialize(
        [customer_segments, segments_cover_every_customer, fact_virtual_count],
        resources={"warehouse": DuckDBWarehouse(path=str(local_settings.duckdb_path))},
    )
    assert result.success
    metadata = {
        event.materialization.asset_key.to_user_string(): {
            k: v.value for k, v in event.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }
    segments = metadata["analytics/customer_segments"]
    assert (segments["customers"], segments["lifetime_value_total"]) == (4, 130.0)
    assert (segments["customers_none"], segments["customers_low"], segments["customers_medium"]) == (1, 1, 1)
    assert segments["customers_high"] == 1
    assert metadata["analytics/fact_virtual_count"] == {
        "dagster/row_count": 3,
        "events": 3,
        "players": 2,
        "gems_spent": 160,
    }
    assert [check.passed for check in result.get_asset_check_evaluations()] == [True]
