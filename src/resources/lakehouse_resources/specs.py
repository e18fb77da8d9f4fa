"""Dagster APIs the platform uses knowingly although Dagster marks them preview.

Each is wrapped once here, silencing its PreviewWarning for that call only, so a location load
prints nothing for them (`task dev` printed 56) while any other preview or beta API still warns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import dagster as dg


def map_asset_specs(defs: dg.Definitions, func: Callable[[dg.AssetSpec], dg.AssetSpec]) -> dg.Definitions:
    """`Definitions.map_asset_specs` (preview in dagster 1.13): the one way to edit built specs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)
        return defs.map_asset_specs(func=func)
