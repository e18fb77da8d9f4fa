"""How kaizen_wars dbt nodes become Dagster assets: keys, group and automation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg
from lakehouse_resources.asset_keys import KAIZEN_WARS, RAW_FACT_VIRTUAL, dbt_model_key
from lakehouse_resources.automation import any_deps_updated_condition
from lakehouse_resources.paths import repo_root
from lakehouse_resources.specs import knowingly_beta

from lakehouse_transformation.defs.dbt_metadata import DescribedDbtTranslator

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

# The dbt sources that another code location produces, by (source name, table).
CROSS_LOCATION_SOURCES = {("raw", "fact_virtual"): RAW_FACT_VIRTUAL}


class KaizenWarsTranslator(DescribedDbtTranslator):
    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] != "model" or not props.get("original_file_path"):
            return spec
        # dbt Cloud runs the project committed in dbt/kaizen_wars: point at the model's SQL there.
        path = repo_root() / "dbt" / KAIZEN_WARS / props["original_file_path"]
        with knowingly_beta():
            reference = dg.LocalFileCodeReference(file_path=str(path), line_number=1)
            references = dg.CodeReferencesMetadataValue(code_references=[reference])
        return spec.merge_attributes(metadata={"dagster/code_references": references})

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source = (dbt_resource_props["source_name"], dbt_resource_props["name"])
            if source in CROSS_LOCATION_SOURCES:
                return CROSS_LOCATION_SOURCES[source]
            return super().get_asset_key(dbt_resource_props)
        return dbt_model_key(KAIZEN_WARS, dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return KAIZEN_WARS

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        # The job rebuilds its models once after an upstream update (a model newly missing alone does
        # not start a dbt Cloud job), when no upstream is running and their blocking tests passed.
        return any_deps_updated_condition() if dbt_resource_props["resource_type"] == "model" else None
