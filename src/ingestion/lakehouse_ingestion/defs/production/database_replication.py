"""Sling replications whose source is a database (SQL Server, PostgreSQL) rather than files."""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster_sling import DagsterSlingTranslator, SlingResource, sling_assets
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.tools import ensure_local_tools


def target_object(stream_name: str, config: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> str:
    """The `schema.table` a stream lands in, with Sling's `{stream_*}` placeholders filled in."""
    template = (config or {}).get("object") or defaults["object"]
    schema, _, table = stream_name.rpartition(".")
    return template.format(stream_schema=schema, stream_table=table)


class TargetObjectTranslator(DagsterSlingTranslator):
    """Key each stream by the table it lands in (`raw_pg.orders` -> raw_pg/orders, a file stream's
    `object: raw.raw_orders` -> raw/raw_orders), with no upstream; for every Sling replication.

    The default translator keys by the source stream (a file's absolute path) and adds a phantom
    upstream asset.
    """

    def __init__(self, defaults: Mapping[str, Any], group_name: str) -> None:
        super().__init__()
        self._defaults = defaults
        self._group_name = group_name

    def get_asset_spec(self, stream_definition: Mapping[str, Any]) -> dg.AssetSpec:
        spec = super().get_asset_spec(stream_definition)
        target = target_object(stream_definition["name"], stream_definition.get("config"), self._defaults)
        return spec.replace_attributes(
            key=dg.AssetKey(target.split(".")), deps=[], group_name=self._group_name
        )


def load_replication(path: Path) -> dict[str, Any]:
    replication = yaml.safe_load(path.read_text())
    # Sling accepts `stream:` with no body; the translator and dagster-sling expect a mapping.
    replication["streams"] = {name: config or {} for name, config in replication["streams"].items()}
    return replication


def build_database_replication(
    settings: LakehouseSettings, *, name: str, replication_file: Path, group_name: str
) -> dg.AssetsDefinition:
    replication = load_replication(replication_file)
    translator = TargetObjectTranslator(replication.get("defaults", {}), group_name)

    @sling_assets(
        replication_config=replication,
        dagster_sling_translator=translator,
        name=name,
        pool=WAREHOUSE_POOL,
    )
    def _assets(context: dg.AssetExecutionContext, sling: SlingResource) -> Iterator[Any]:
        ensure_local_tools(settings)
        # Streaming mode reports per stream how many rows this run moved (`row_count`), next to
        # the table's total (`dagster/row_count`): for an incremental stream they differ.
        yield from sling.replicate(context=context, stream=True).fetch_row_count()

    return _assets
