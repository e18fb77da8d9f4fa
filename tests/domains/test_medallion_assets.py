"""The medallion domains in the `domains` location: one asset per table per layer, grouped by domain,
dependencies across layers and domains, and each spec expectation a check (fail/drop blocking)."""

import dagster as dg
import pytest
from lakehouse_domains.defs.build import build_domains_defs
from lakehouse_resources.settings import get_settings


def key(*path: str) -> dg.AssetKey:
    return dg.AssetKey(list(path))


MEMBER_SILVER = ("demographics", "enrollment", "eligibility")
CLAIMS_SILVER = ("medical", "pharmacy", "professional")


def test_member_and_claims_assets_from_bronze_to_gold(clean_env: pytest.MonkeyPatch) -> None:
    defs = build_domains_defs(get_settings())
    graph = defs.resolve_asset_graph()
    bronze_members = key("member", "enrollment", "bronze", "members")
    for name in MEMBER_SILVER:
        silver = graph.get(key("member", "enrollment", "silver", name))
        assert silver.parent_keys == {bronze_members}
        assert silver.group_name == "member"
        assert silver.tags["layer"] == "silver"
    assert graph.get(key("member", "enrollment", "gold", "eligible_members")).parent_keys == {
        key("member", "enrollment", "silver", "eligibility")
    }
    bronze_claims = key("claims", "adjudication", "bronze", "claim_lines")
    for name in CLAIMS_SILVER:
        assert graph.get(key("claims", "adjudication", "silver", name)).parent_keys == {bronze_claims}
    gold = graph.get(key("claims", "adjudication", "gold", "paid_by_member"))
    assert gold.group_name == "claims"
    assert gold.parent_keys == {
        *(key("claims", "adjudication", "silver", name) for name in CLAIMS_SILVER),
        key("member", "enrollment", "silver", "enrollment"),  # claims gold joins member silver
    }
    assert gold.metadata["table"] == "spark_catalog.claims_adjudication.gold_paid_by_member"


def test_expectations_are_checks_blocking_for_fail_and_drop(clean_env: pytest.MonkeyPatch) -> None:
    defs = build_domains_defs(get_settings())
    checks = {
        ("_".join(spec.asset_key.path), spec.name): spec
        for asset in defs.assets or []
        if isinstance(asset, dg.AssetsDefinition)
        for spec in asset.check_specs
    }
    demographics = "member_enrollment_silver_demographics"
    assert checks[demographics, "member_id_format"].blocking  # fail
    assert checks[demographics, "birth_date_in_past"].blocking  # drop
    assert not checks[demographics, "known_gender"].blocking  # warn
    assert not checks["member_enrollment_bronze_members", "well_formed"].blocking
    assert checks["claims_adjudication_silver_pharmacy", "valid_ndc"].blocking
    medallion = [pair for pair in checks if pair[0].startswith(("member_", "claims_"))]
    assert len(medallion) == 2 + 2 + 8 + 9  # bronze, bronze, member silver, claims silver
