"""The naming policy: keys, the target suffix, catalog and schema, and per-target namespace rules."""

import pytest
from lakehouse_resources.platform.naming import Layer, NamespaceRule, NamingError, ResourceName, TableName
from lakehouse_resources.platform.targets import load_bundle
from testsupport import REPO

BUNDLE = REPO / "databricks"


def test_key_suffix_catalog_and_schema_come_from_the_fields() -> None:
    name = ResourceName("finance", "erp", Layer.BASE, "postings")
    assert name.key == "finance_erp_base_postings"
    assert name.deployed("dev") == "finance_erp_base_postings_dev"
    assert name.table == TableName("finance", "erp", "base_postings")


def test_a_domain_with_an_underscore_keeps_its_parts() -> None:
    # `template_domain_template_source_raw_events` cannot be split back; the fields stay authoritative.
    name = ResourceName("template_domain", "template_source", Layer.RAW, "events")
    assert name.key == "template_domain_template_source_raw_events"
    assert (name.table.catalog, name.table.schema) == ("template_domain", "template_source")


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("domain", "Finance", "not lower snake case"),
        ("source", "erp-feed", "not lower snake case"),
        ("asset", "double__underscore", "not lower snake case"),
    ],
)
def test_names_must_be_lower_snake_case(field: str, value: str, rule: str) -> None:
    fields = {"domain": "finance", "source": "erp", "layer": Layer.RAW, "asset": "postings", field: value}
    with pytest.raises(NamingError, match=f"{field} '{value}' is {rule}"):
        ResourceName(**fields)


def test_layer_outside_the_list_names_the_list() -> None:
    with pytest.raises(
        NamingError, match="layer 'platinum' is not one of raw, base, staging, final, bronze, silver, gold"
    ):
        ResourceName("finance", "erp", "platinum", "postings")  # type: ignore[arg-type]


def test_targets_overlay_places_tables_per_target() -> None:
    bundle = load_bundle(BUNDLE)
    name = ResourceName("member", "enrollment", Layer.SILVER, "demographics")
    placed = {
        t: str(bundle.target(t).namespace.resolve(name, t)) for t in ("local", "dev", "staging", "prod")
    }
    assert placed == {
        "local": "spark_catalog.member_enrollment.silver_demographics",
        "dev": "dev_catalog.dev_member.enrollment_silver_demographics",
        "staging": "staging_catalog.staging_member.enrollment_silver_demographics",
        "prod": "member.enrollment.silver_demographics",
    }


def test_local_rule_places_any_three_part_name() -> None:
    local = load_bundle(BUNDLE).target("local").namespace
    assert (
        str(local.resolve_table(TableName("main", "marts", "customers")))
        == "spark_catalog.main_marts.customers"
    )


def test_a_rule_with_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(NamingError, match=r"uses env"):
        NamespaceRule(catalog="{env}_catalog")
