"""What a user meets on a dlt load and a dbt model: no "(unserializable)" entry, no JSON dump of
dlt's internals, no path of the machine that ran it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import dagster as dg
from dagster._core.remote_representation.external_data import RepositorySnap
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_resources.asset_keys import CUSTOMERS, JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_transformation.defs.jaffle_shop.build import build_jaffle_shop_defs


def unreadable(metadata: Mapping[str, dg.MetadataValue], machine_paths: tuple[str, ...]) -> Iterator[str]:
    """Keys a user could not read: a placeholder for an object, a JSON dump, or a machine path."""
    for key, value in metadata.items():
        text = repr(value)
        if "(unserializable)" in text or isinstance(value, dg.JsonMetadataValue):
            yield key
        elif any(path in text for path in machine_paths):
            yield f"{key} (a machine path)"


def test_dlt_and_dbt_materializations_carry_only_readable_entries(
    local_settings: LakehouseSettings, tmp_path: Path
) -> None:
    ingestion = build_ingestion_defs(local_settings)
    dbt = build_jaffle_shop_defs(local_settings)
    assets = [a for d in (ingestion, dbt) for a in d.assets or [] if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        assets,
        resources={**dict(ingestion.resources or {}), **dict(dbt.resources or {})},
        selection=dg.AssetSelection.assets(RAW_FACT_VIRTUAL, *JAFFLE_SHOP_RAW)
        | dg.AssetSelection.assets(CUSTOMERS).upstream(),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    machine_paths = (str(repo_root()), tempfile.gettempdir(), str(tmp_path), str(Path.home()))
    found = {
        event.materialization.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert {RAW_FACT_VIRTUAL.to_user_string(), CUSTOMERS.to_user_string()} <= found.keys()
    checks = result.get_asset_check_evaluations()
    assert checks
    found |= {f"check {c.check_name}": c.metadata for c in checks}
    assert {name: list(unreadable(metadata, machine_paths)) for name, metadata in found.items()} == {
        name: [] for name in found
    }
    # What dlt's entries say instead: rows, destination and dataset by name, the load and its time.
    dlt = found[RAW_FACT_VIRTUAL.to_user_string()]
    assert dlt["rows_loaded"].value == 3000
    assert (dlt["destination_name"].value, dlt["dataset_name"].value) == ("duckdb", "raw")
    assert dlt["load_id"].value
    assert isinstance(dlt["started_at"], dg.TimestampMetadataValue)
    duration = dlt["duration_seconds"]
    assert isinstance(duration, dg.FloatMetadataValue)
    assert (duration.value or 0) >= 0


def test_the_dlt_asset_definition_shows_no_unserializable_entry(local_settings: LakehouseSettings) -> None:
    """dagster-dlt's source, pipeline and translator objects were shown as "[DltSource] (unserializable)"."""
    snap = RepositorySnap.from_def(build_ingestion_defs(local_settings).get_repository_def())
    node = next(node for node in snap.asset_nodes if node.asset_key == RAW_FACT_VIRTUAL)
    assert [key for key, value in node.metadata.items() if "(unserializable)" in repr(value)] == []


# Entries the Dagster UI never shows (its list of dagster-dbt's run-time objects); it shows the rest.
UI_HIDDEN = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}


def test_a_dbt_model_definition_shows_no_unserializable_entry(local_settings: LakehouseSettings) -> None:
    """dagster-dbt put its DbtProject on every model, shown as "[DbtProject] (unserializable)"."""
    snap = RepositorySnap.from_def(build_jaffle_shop_defs(local_settings).get_repository_def())
    node = next(node for node in snap.asset_nodes if node.asset_key == CUSTOMERS)
    shown = {key: value for key, value in node.metadata.items() if key not in UI_HIDDEN}
    assert [key for key, value in shown.items() if "(unserializable)" in repr(value)] == []
    assert "dagster/code_references" in shown  # what the project was needed for is still there
