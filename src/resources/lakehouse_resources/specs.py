"""Editing built asset specs: owners and code references for every location, and the Dagster
APIs for it that Dagster marks preview.

Each preview API is wrapped once here, silencing its PreviewWarning for that call only, so a
location load prints nothing for them (`task dev` printed 56) while any other still warns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_shared.record import copy


@contextmanager
def knowingly_beta() -> Iterator[None]:
    """Code references (`CodeReferencesMetadataValue`, `LocalFileCodeReference`) are beta in
    dagster 1.13; building one per asset warned once per asset (20,000 lines at 10,000 dbt models)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        warnings.simplefilter("ignore", category=dg.PreviewWarning)
        yield


@contextmanager
def knowingly_preview() -> Iterator[None]:
    """A Dagster API we call knowing it is preview (dagster-dbt's dbt Cloud workspace loads specs
    through `Definitions.with_reconstruction_metadata`, which warned on every `dg dev` load)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)
        yield


def map_asset_specs(defs: dg.Definitions, func: Callable[[dg.AssetSpec], dg.AssetSpec]) -> dg.Definitions:
    """`Definitions.map_asset_specs` (preview in dagster 1.13): the one way to edit built specs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)
        return defs.map_asset_specs(func=func)


# Who answers for a location's assets (the seeds name the Data Engineering Team); an asset that
# names its own owners (a dbt group's owner, say) keeps them.
LOCATION_OWNERS: dict[str, list[str]] = {
    "ingestion": ["team:data-engineering"],
    "transformation": ["team:data-engineering"],
    "downstream": ["team:data-engineering"],
    "domains": ["team:data-engineering"],
}


def with_owners_and_code_references(defs: dg.Definitions, location: str) -> dg.Definitions:
    """Owners on every asset, and `dagster/code_references` to the Python that computes it.

    dagster-dbt's own references (a model's SQL file) stay; the function that runs dbt is added.
    """
    owners = LOCATION_OWNERS.get(location, ["team:data-engineering"])
    assets = list(defs.assets or [])
    with knowingly_beta():
        located = dg.with_source_code_references(
            [asset for asset in assets if isinstance(asset, dg.AssetsDefinition)]
        )
    others = [asset for asset in assets if not isinstance(asset, dg.AssetsDefinition)]
    with_refs = copy(defs, assets=[*located, *others])
    return map_asset_specs(
        with_refs, lambda spec: spec if spec.owners else spec.replace_attributes(owners=owners)
    )
