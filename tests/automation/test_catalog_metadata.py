"""What the catalog shows on the loaded Definitions: descriptions, owners, code references, and one
table name per table."""

from __future__ import annotations

import dagster as dg
from automation_support import Lakehouse


def nodes(lakehouse: Lakehouse):
    for location, defs in lakehouse.locations.items():
        graph = defs.resolve_asset_graph()
        for node in graph.asset_nodes:
            yield location, graph, node


def test_dbt_models_are_described_by_their_yaml_not_their_sql(lakehouse: Lakehouse) -> None:
    graph = lakehouse.locations["transformation"].resolve_asset_graph()
    descriptions = {
        key.to_user_string(): graph.get(key).description or "" for key in graph.materializable_asset_keys
    }
    assert descriptions["jaffle_shop/stg_payments"].startswith("One row per payment")
    assert descriptions["kaizen_wars/fct_kaizen_wars__daily_player_spend"] == "Gems spent per player and day."
    assert [key for key, text in descriptions.items() if "Raw SQL" in text or not text] == []


def test_every_asset_check_has_a_description(lakehouse: Lakehouse) -> None:
    missing, blocking = [], {}
    for defs in lakehouse.locations.values():
        graph = defs.resolve_asset_graph()
        for check in graph.asset_check_keys:
            spec = graph.get_check_spec(check)
            if not spec.description:
                missing.append(check.to_user_string())
            blocking[check.name] = spec.description or ""
    assert missing == []
    assert blocking["unique_stg_payments_payment_id"] == (
        "dbt test unique on payment_id: blocks downstream assets when it fails."
    )
    assert "warns when it fails" in blocking["not_null_orders_amount"]


def test_every_asset_has_owners_and_a_code_reference(lakehouse: Lakehouse) -> None:
    for location, graph, node in nodes(lakehouse):
        if not graph.get(node.key).is_materializable:
            continue
        assert node.owners, (location, node.key)
        references = node.metadata.get("dagster/code_references")
        assert isinstance(references, dg.CodeReferencesMetadataValue), (location, node.key)
        assert references.code_references, (location, node.key)
    dbt = (
        lakehouse.locations["transformation"]
        .resolve_asset_graph()
        .get(dg.AssetKey(["jaffle_shop", "customers"]))
    )
    files = [ref.file_path for ref in dbt.metadata["dagster/code_references"].code_references]
    assert any(path.endswith("models/marts/customers.sql") for path in files), files


def test_one_table_name_per_table(lakehouse: Lakehouse) -> None:
    names: dict[str, set[str]] = {}
    for _, _, node in nodes(lakehouse):
        name = node.metadata.get("dagster/table_name")
        if name:
            names.setdefault(node.key.to_user_string(), set()).add(str(name))
    assert {key: found for key, found in names.items() if len(found) > 1} == {}
    assert names["raw/fact_virtual"] == {"warehouse.raw.fact_virtual"}
    assert names["raw/raw_orders"] == {"warehouse.raw.raw_orders"}
