"""How kaizen_wars dbt nodes become Dagster assets: keys, group and automation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator
from lakehouse_resources.asset_keys import KAIZEN_WARS, RAW_FACT_VIRTUAL, dbt_model_key

# The dbt sources that another code location produces, by (source name, table).
CROSS_LOCATION_SOURCES = {("raw", "fact_virtual"): RAW_FACT_VIRTUAL}


def models_automation() -> dg.AutomationCondition:
    """Rebuild once after an upstream update, but not while it or an upstream is still running."""
    return (
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_missing()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("any_deps_updated")


class KaizenWarsTranslator(DagsterDbtTranslator):
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
        return models_automation() if dbt_resource_props["resource_type"] == "model" else None
