"""Assemble the transformation location from its parts."""

from __future__ import annotations

import dagster as dg
from lakehouse_resources.automation import apply_lakehouse_policy
from lakehouse_resources.settings import LakehouseSettings

from lakehouse_transformation.defs.dbt_cloud.definitions import build_dbt_cloud_defs
from lakehouse_transformation.defs.jaffle_shop.build import build_jaffle_shop_defs


def build_transformation_defs(settings: LakehouseSettings) -> dg.Definitions:
    defs = dg.Definitions.merge(build_jaffle_shop_defs(settings), build_dbt_cloud_defs(settings))
    return apply_lakehouse_policy(defs, location="transformation", settings=settings)
