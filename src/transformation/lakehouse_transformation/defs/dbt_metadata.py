"""What the catalog shows for dbt nodes, for dbt Core and dbt Cloud alike.

dagster-dbt describes a model without a YAML description by its raw SQL ("#### Raw SQL"), and a
dbt test by nothing; here a model is described by its YAML description, and a test by what it
checks and whether it blocks downstream assets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

if TYPE_CHECKING:
    from dagster_dbt import DbtProject


def node_description(props: Mapping[str, Any]) -> str:
    described = (props.get("description") or "").strip()
    if described:
        return described
    return f"dbt {props['resource_type']} {props['name']} ({props.get('original_file_path', 'no file')})."


def test_description(test: Mapping[str, Any]) -> str:
    described = (test.get("description") or "").strip()
    metadata = test.get("test_metadata") or {}
    severity = str((test.get("config") or {}).get("severity", "error")).lower()
    effect = "blocks downstream assets when it fails" if severity == "error" else "warns when it fails"
    if described:
        return f"{described} (dbt test: {effect})"
    if metadata:
        column = test.get("column_name") or metadata.get("kwargs", {}).get("column_name")
        return f"dbt test {metadata.get('name')}{f' on {column}' if column else ''}: {effect}."
    return f"dbt test {test['name']} ({test.get('original_file_path', 'singular test')}): {effect}."


class DescribedDbtTranslator(DagsterDbtTranslator):
    """A translator whose models and tests are described as above."""

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return node_description(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return spec._replace(description=test_description(manifest["nodes"][unique_id]))
