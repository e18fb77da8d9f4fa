"""The cached dbt specs give the same AssetsDefinition as `@dbt_assets`, and a new manifest rebuilds them."""

import copy
import gc
import json
import shutil
from pathlib import Path

import dagster as dg
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster_dbt import DbtProject, dbt_assets
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_MANIFEST_METADATA_KEY,
    DAGSTER_DBT_PROJECT_METADATA_KEY,
    get_manifest_and_translator_from_dbt_assets,
)
from lakehouse_resources.asset_keys import CUSTOMERS
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_transformation.defs.jaffle_shop.assets import LakehouseDbtTranslator
from lakehouse_transformation.defs.jaffle_shop.project import jaffle_shop_project
from lakehouse_transformation.defs.jaffle_shop.spec_cache import (
    DbtManifestWrapper,
    cached_dbt_assets,
    collection_paused,
)


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
    # Stock specs carry dagster-dbt's project entry, which ours leave out (the UI shows it as
    # "[DbtProject] (unserializable)"); everything else is equal.
    stock = {
        key: spec.replace_attributes(
            metadata={k: v for k, v in spec.metadata.items() if k != DAGSTER_DBT_PROJECT_METADATA_KEY}
        )
        for key, spec in reference.specs_by_key.items()
    }
    assert all(DAGSTER_DBT_PROJECT_METADATA_KEY in spec.metadata for spec in reference.specs_by_key.values())
    assert cached.specs_by_key == stock
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


def _cached(manifest: Path, translator: LakehouseDbtTranslator, project: DbtProject) -> dg.AssetsDefinition:
    return cached_dbt_assets(manifest_path=manifest, translator=translator, project=project, name="dbt")(
        _noop
    )


def _wrapper(assets: dg.AssetsDefinition) -> DbtManifestWrapper:
    wrapper = assets.specs_by_key[CUSTOMERS].metadata[DAGSTER_DBT_MANIFEST_METADATA_KEY]
    assert isinstance(wrapper, DbtManifestWrapper)
    return wrapper


def test_a_load_from_the_cache_parses_the_manifest_only_when_a_run_reads_it(
    local_settings: LakehouseSettings, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    project = jaffle_shop_project(local_settings)
    shutil.copy(project.manifest_path, manifest)
    translator = LakehouseDbtTranslator("jaffle_shop")
    _cached(manifest, translator, project)  # builds and stores the specs

    assets = _cached(manifest, translator, project)
    wrapper = _wrapper(assets)
    # Every spec shares one wrapper, and nothing a code server does at load reads it.
    assert all(
        spec.metadata[DAGSTER_DBT_MANIFEST_METADATA_KEY] is wrapper for spec in assets.specs_by_key.values()
    )
    defs = dg.Definitions(assets=[assets])
    snapshot = RepositorySnap.from_def(defs.get_repository_def())
    assert not wrapper.parsed
    node = next(node for node in snapshot.asset_nodes if node.asset_key == CUSTOMERS)
    # The catalog shows the entry as it does for stock @dbt_assets.
    assert node.metadata[DAGSTER_DBT_MANIFEST_METADATA_KEY] == dg.MetadataValue.text(
        "[DbtManifestWrapper] (unserializable)"
    )

    # A run gets the manifest the specs were built from, even when the file changed since the load.
    expected = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**expected, "nodes": {}}))
    read, read_translator, _ = get_manifest_and_translator_from_dbt_assets([assets])
    assert wrapper.parsed
    assert read == expected
    assert read_translator is translator
    assert copy.deepcopy(wrapper).manifest == expected


def test_the_collector_is_paused_for_the_build_only() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
