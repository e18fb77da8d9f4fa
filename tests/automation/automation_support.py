"""What the automation tests share besides fixtures."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class Lakehouse:
    locations: dict[str, dg.Definitions]

    def graph(self) -> dg.Definitions:
        """All locations' assets and checks as one graph, as the daemon sees the workspace.

        Sensors are left out: each location's automation sensor selects "its" assets, which
        would overlap once the locations are merged into one.
        """
        return dg.Definitions.merge(
            *(
                dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, resources=defs.resources)
                for defs in self.locations.values()
            )
        )


class Ticks:
    """An ephemeral instance and the cursor carried from one evaluation to the next."""

    def __init__(self, defs: dg.Definitions) -> None:
        self.defs = defs
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor = None
        self.sensor_cursor: str | None = None  # a sensor's cursor between evaluations

    def tick(self) -> set[str]:
        result = dg.evaluate_automation_conditions(defs=self.defs, instance=self.instance, cursor=self.cursor)
        self.cursor = result.cursor
        return {
            key.to_user_string()
            for key in self.defs.resolve_asset_graph().materializable_asset_keys
            if result.get_num_requested(key)
        }

    def materialized(self, *keys: dg.AssetKey) -> None:
        for key in keys:
            self.instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))

    def checked(self, key: dg.AssetKey, failing: Collection[str] = ()) -> None:
        """Report every check of `key` on its latest materialization; those in `failing` fail."""
        for check in self.defs.resolve_asset_graph().get_check_keys_for_assets({key}):
            self.instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(
                    asset_key=key, check_name=check.name, passed=check.name not in failing
                )
            )

    def check_names(self, key: dg.AssetKey, *, blocking: bool) -> list[str]:
        graph = self.defs.resolve_asset_graph()
        return sorted(
            check.name
            for check in graph.get_check_keys_for_assets({key})
            if graph.get_check_spec(check).blocking is blocking
        )
