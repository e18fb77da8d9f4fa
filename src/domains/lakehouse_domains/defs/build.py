"""Assemble the `domains` location: one asset per table per layer of every bundle spec.

The specs (`databricks/specs`) and the naming policy are the same ones the bundle is generated from,
so an asset key, a deployed name and a table name cannot drift apart. Nothing here talks to
Databricks: jobs and pipelines are looked up by their deployed name when an asset materializes.
"""

from __future__ import annotations

import dagster as dg
from lakehouse_resources.automation import apply_lakehouse_policy
from lakehouse_resources.databricks import databricks_client_from_settings
from lakehouse_resources.platform.specs import load_specs
from lakehouse_resources.platform.targets import bundle_for
from lakehouse_resources.settings import LakehouseSettings

from lakehouse_domains.defs.assets import spec_assets
from lakehouse_domains.defs.landing import landing_asset, landing_sensor, landing_volumes
from lakehouse_domains.defs.sensors import pipeline_state_sensor, stream_state_sensor


def bundle_target(settings: LakehouseSettings) -> str:
    """The bundle target this environment deploys to: `local` locally, else the environment's name."""
    return "local" if settings.is_local else settings.env.value


def build_domains_defs(settings: LakehouseSettings) -> dg.Definitions:
    bundle = bundle_for(settings.root)
    specs = load_specs(bundle.root)
    target = bundle.target(bundle_target(settings))
    volumes = landing_volumes(specs, target)
    assets = [
        *(landing_asset(v) for v in volumes),
        *(spec_assets(spec, specs, target) for spec in specs.specs),
    ]
    sensors = [
        landing_sensor(volumes),
        *(
            stream_state_sensor(spec, target, settings)
            for spec in specs.jobs
            if getattr(spec.spec, "continuous", False)
        ),
        *(
            pipeline_state_sensor(spec, target, settings)
            for spec in specs.pipelines
            if getattr(spec.spec, "continuous", False)
        ),
    ]
    defs = dg.Definitions(
        assets=assets,
        sensors=sensors,
        # Its own key: `task pipeline` merges every location, and two client objects never compare
        # equal under one key (downstream's notebooks use `databricks`).
        resources={"databricks_workspace": databricks_client_from_settings(settings)},
    )
    return apply_lakehouse_policy(defs, location="domains", settings=settings)
