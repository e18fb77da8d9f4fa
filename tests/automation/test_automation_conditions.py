"""Automation conditions across the locations, evaluated as the daemon would, tick by tick."""

from __future__ import annotations

import dagster as dg
import pytest
from automation_support import Lakehouse, Ticks
from lakehouse_resources.asset_keys import JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL, STG_FACT_VIRTUAL

FCT_DAILY_SPEND = dg.AssetKey(["kaizen_wars", "fct_kaizen_wars__daily_player_spend"])
FACT_VIRTUAL_COUNT = dg.AssetKey(["analytics", "fact_virtual_count"])
FACT_VIRTUAL_REVENUE = dg.AssetKey(["analytics", "kaizen_wars", "gold", "fact_virtual_revenue"])


@pytest.fixture
def ticks(lakehouse: Lakehouse) -> Ticks:
    ticks = Ticks(lakehouse.graph())
    # Nothing has been ingested yet, so nothing downstream can run.
    assert ticks.tick() == set()
    return ticks


def test_a_dlt_load_requests_everything_downstream_once(ticks: Ticks) -> None:
    ticks.materialized(RAW_FACT_VIRTUAL)
    assert ticks.tick() == {
        "kaizen_wars/stg_kaizen_wars__fact_virtual",
        "kaizen_wars/fct_kaizen_wars__daily_player_spend",
        "analytics/fact_virtual_count",
        "analytics/kaizen_wars/gold/fact_virtual_revenue",
    }
    assert ticks.tick() == set()


def test_the_jaffle_shop_replication_requests_dbt_python_and_notebook_assets_once(ticks: Ticks) -> None:
    ticks.materialized(*JAFFLE_SHOP_RAW)
    assert ticks.tick() == {
        "jaffle_shop/stg_customers",
        "jaffle_shop/stg_orders",
        "jaffle_shop/stg_payments",
        "jaffle_shop/customers",
        "jaffle_shop/orders",
        "analytics/customer_segments",
        "analytics/jaffle_shop/gold/customer_value",
        "analytics/jaffle_shop/gold/customer_tiers",
        "analytics/customer_tier_summary",
    }
    assert ticks.tick() == set()
    # A later load requests them again, once.
    ticks.materialized(*JAFFLE_SHOP_RAW)
    assert "analytics/customer_segments" in ticks.tick()
    assert ticks.tick() == set()


def test_an_asset_in_progress_is_not_requested_again(ticks: Ticks) -> None:
    job = ticks.defs.resolve_implicit_global_asset_job_def()
    ticks.instance.create_run_for_job(
        job_def=job, asset_selection=frozenset({FACT_VIRTUAL_COUNT}), status=dg.DagsterRunStatus.STARTED
    )
    ticks.materialized(STG_FACT_VIRTUAL)
    ticks.checked(STG_FACT_VIRTUAL)
    requested = ticks.tick()
    assert "kaizen_wars/fct_kaizen_wars__daily_player_spend" in requested
    assert "analytics/fact_virtual_count" not in requested


def test_a_failing_blocking_check_holds_downstream_assets_back_until_it_passes(ticks: Ticks) -> None:
    blocking = ticks.check_names(STG_FACT_VIRTUAL, blocking=True)
    assert blocking, "error-severity dbt tests are blocking checks"
    ticks.materialized(STG_FACT_VIRTUAL)
    ticks.checked(STG_FACT_VIRTUAL, failing={blocking[0]})
    assert ticks.tick() == set()
    assert ticks.tick() == set()
    # Fixed and re-tested: the update that was held back now goes through, once.
    ticks.checked(STG_FACT_VIRTUAL)
    assert ticks.tick() == {"kaizen_wars/fct_kaizen_wars__daily_player_spend", "analytics/fact_virtual_count"}
    assert ticks.tick() == set()


def test_a_failing_warn_check_does_not_hold_anything_back(ticks: Ticks) -> None:
    warnings = ticks.check_names(STG_FACT_VIRTUAL, blocking=False)
    assert warnings, "the kaizen_wars staging model has a warn-severity test"
    ticks.materialized(STG_FACT_VIRTUAL)
    ticks.checked(STG_FACT_VIRTUAL, failing=set(warnings))
    assert ticks.tick() == {"kaizen_wars/fct_kaizen_wars__daily_player_spend", "analytics/fact_virtual_count"}
