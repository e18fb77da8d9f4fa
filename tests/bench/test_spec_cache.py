"""The cached dbt specs give the same AssetsDefinition as `@dbt_assets`, and a new manifest rebuilds them."""

import json
import shutil
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtProject, dbt_assets
from lakehouse_resources.asset_keys import CUSTOMERS
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_transformation.defs.jaffle_shop.assets import LakehouseDbtTranslator
from lakehouse_transformation.defs.jaffle_shop.project import jaffle_shop_project
from lakehouse_transformation.defs.jaffle_shop.spec_cache import cached_dbt_assets


def _noop(context: dg.AssetExecutionContext):
    yield from ()


def _both(
    manifest: Path, translator: LakehouseDbtTranslator, project: DbtProject
) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    # A dict, not the path: dagster-dbt memoizes a manifest path's contents for the process.
    # The project locates each model's SQL file for the code references.
    content = json.loads(manifest.read_text())
    reference = dbt_assets(
        manifest=content, project=project, dagster_dbt_translator=translator, name="dbt", pool="p"
    )(_noop)
    cached = cached_dbt_assets(
        manifest_path=manifest, translator=translator, project=project, name="dbt", pool="p"
    )(_noop)
    return reference, cached


def _same(reference: dg.AssetsDefinition, cached: dg.AssetsDefinition) -> None:
    assert cached.specs_by_key == reference.specs_by_key
    assert cached.check_specs_by_output_name == reference.check_specs_by_output_name
    assert len(reference.check_specs_by_output_name) > 5
    assert cached.op.tags == reference.op.tags
    assert cached.node_keys_by_output_name == reference.node_keys_by_output_name
    assert cached.can_subset
    assert cached.op.pool == "p"


def test_cached_specs_equal_dbt_assets_and_follow_the_manifest(
    local_settings: LakehouseSettings, tmp_path: Path
) -> None:
    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir()
    project = jaffle_shop_project(local_settings)
    shutil.copy(project.manifest_path, manifest)
    translator = LakehouseDbtTranslator("jaffle_shop")

    _same(*_both(manifest, translator, project))  # built and stored
    assert len(list(manifest.parent.glob("dagster_specs.*.pickle"))) == 1
    _same(*_both(manifest, translator, project))  # read back

    # A changed model in a new manifest: the cache must not serve the old specs.
    content = json.loads(manifest.read_text())
    content["nodes"]["model.jaffle_shop.customers"]["description"] = "changed in the new manifest"
    manifest.write_text(json.dumps(content))
    reference, cached = _both(manifest, translator, project)
    _same(reference, cached)
    assert (cached.specs_by_key[CUSTOMERS].description or "").startswith("changed in the new manifest")
    assert len(list(manifest.parent.glob("dagster_specs.*.pickle"))) == 1


def test_a_corrupt_cache_file_is_rebuilt(local_settings: LakehouseSettings, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    project = jaffle_shop_project(local_settings)
    shutil.copy(project.manifest_path, manifest)
    translator = LakehouseDbtTranslator("jaffle_shop")
    _both(manifest, translator, project)
    for cache in tmp_path.glob("dagster_specs.*.pickle"):
        cache.write_bytes(b"not a pickle")
    _same(*_both(manifest, translator, project))
