"""The three code locations: what each holds, and that together they form one graph."""

import importlib
import subprocess
import sys
from collections import Counter

import dagster as dg
import pytest
from lakehouse_resources.settings import SettingsError
from testsupport import REPO

LOCATIONS = {
    "ingestion": "lakehouse_ingestion.definitions",
    "transformation": "lakehouse_transformation.definitions",
    "downstream": "lakehouse_downstream.definitions",
    "domains": "lakehouse_domains.definitions",
}

# Every asset each location must define. A defs module can drop assets silently while
# validation still passes, so the lists are exact.
EXPECTED_ASSETS = {
    "ingestion": {"raw/raw_customers", "raw/raw_orders", "raw/raw_payments", "raw/fact_virtual"},
    "transformation": {
        "jaffle_shop/stg_customers",
        "jaffle_shop/stg_orders",
        "jaffle_shop/stg_payments",
        "jaffle_shop/customers",
        "jaffle_shop/orders",
        "kaizen_wars/stg_kaizen_wars__fact_virtual",
        "kaizen_wars/fct_kaizen_wars__daily_player_spend",
    },
    "downstream": {
        "analytics/customer_segments",
        "analytics/fact_virtual_count",
        "analytics/customer_tier_summary",
    },
    # One asset per table per layer of the bundle's specs (databricks/specs), submitted ones included.
    "domains": {
        "analytics/jaffle_shop/gold/customer_value",
        "analytics/jaffle_shop/gold/customer_tiers",
        "analytics/kaizen_wars/gold/fact_virtual_revenue",
        "template_domain/template_source/raw/events",
        "template_domain/template_source/staging/event_counts",
        "template_domain/template_source/staging/impression_clicks",
        "finance/erp/raw/postings",
        "finance/erp/base/postings",
        "finance/erp/staging/account_daily",
        "finance/erp/final/account_balances",
        "member/enrollment/bronze/members",
        "member/enrollment/silver/demographics",
        "member/enrollment/silver/enrollment",
        "member/enrollment/silver/eligibility",
        "member/enrollment/gold/eligible_members",
        "claims/adjudication/bronze/claim_lines",
        "claims/adjudication/silver/medical",
        "claims/adjudication/silver/pharmacy",
        "claims/adjudication/silver/professional",
        "claims/adjudication/gold/paid_by_member",
    },
}


def prepare_dbt_cloud_state() -> None:
    """What `task dev` and `task check` do first: loading the transformation location only reads it."""
    from lakehouse_cli.dbt_cloud import prepare_state
    from lakehouse_resources.settings import get_settings

    prepare_state(get_settings())


def load(location: str) -> dg.Definitions:
    module = importlib.import_module(LOCATIONS[location])
    defs = module.defs
    loaded = defs() if callable(defs) else defs
    assert isinstance(loaded, dg.Definitions)
    return loaded


def materializable_keys(defs: dg.Definitions) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {key.to_user_string() for key in graph.materializable_asset_keys}


@pytest.mark.parametrize("location", sorted(LOCATIONS))
def test_location_loads_with_no_environment_and_holds_exactly_its_assets(
    location: str, clean_env: pytest.MonkeyPatch
) -> None:
    if location == "transformation":
        prepare_dbt_cloud_state()
    assert materializable_keys(load(location)) == EXPECTED_ASSETS[location]


def test_dependencies_across_locations_have_exactly_one_owner(clean_env: pytest.MonkeyPatch) -> None:
    prepare_dbt_cloud_state()
    owners: Counter[str] = Counter()
    deps: dict[str, set[str]] = {}
    for location in LOCATIONS:
        defs = load(location)
        graph = defs.resolve_asset_graph()
        # What the location defines: its assets and its external assets (the landing Volumes).
        owned = {key.to_user_string() for key in graph.materializable_asset_keys}
        owned |= {a.key.to_user_string() for a in defs.assets or [] if isinstance(a, dg.AssetSpec)}
        owners.update(owned)
        for key in graph.materializable_asset_keys:
            deps[key.to_user_string()] = {parent.to_user_string() for parent in graph.get(key).parent_keys}
    assert [key for key, count in owners.items() if count > 1] == []
    dangling = {child: parents - set(owners) for child, parents in deps.items() if parents - set(owners)}
    assert dangling == {}
    # the graph really crosses locations
    assert "raw/raw_customers" in deps["jaffle_shop/stg_customers"]
    assert "jaffle_shop/customers" in deps["analytics/customer_segments"]
    assert "raw/fact_virtual" in deps["kaizen_wars/stg_kaizen_wars__fact_virtual"]
    assert "kaizen_wars/stg_kaizen_wars__fact_virtual" in deps["analytics/fact_virtual_count"]


def test_importing_a_location_reads_no_settings(clean_env: pytest.MonkeyPatch) -> None:
    """A bad variable fails when Definitions are built, with its name, not at import."""
    clean_env.setenv("LAKEHOUSE_ENV", "nonsense")
    code = "; ".join(f"import {module}" for module in LOCATIONS.values())
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    with pytest.raises(SettingsError, match="LAKEHOUSE_ENV"):
        load("ingestion")


@pytest.mark.slow
def test_dg_check_defs_passes_with_no_credentials(clean_env: pytest.MonkeyPatch) -> None:
    prepare_dbt_cloud_state()
    result = subprocess.run(["dg", "check", "defs"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "All definitions loaded successfully" in result.stdout + result.stderr
