"""The dbt Core part of the transformation location: the jaffle shop assets and their dbt resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from lakehouse_resources.dbt_launcher import dbt_executable
from lakehouse_resources.settings import LakehouseSettings

from lakehouse_transformation.defs.jaffle_shop.assets import build_jaffle_shop_assets
from lakehouse_transformation.defs.jaffle_shop.project import jaffle_shop_project


def build_jaffle_shop_defs(settings: LakehouseSettings, project_dir: Path | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=[build_jaffle_shop_assets(settings, project_dir)],
        resources={
            "dbt": DbtCliResource(
                project_dir=jaffle_shop_project(settings, project_dir), dbt_executable=dbt_executable()
            )
        },
    )
