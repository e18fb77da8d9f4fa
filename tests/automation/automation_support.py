"""What the automation tests share besides fixtures."""

from __future__ import annotations

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
