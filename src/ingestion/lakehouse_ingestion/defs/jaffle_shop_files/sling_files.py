"""Sling replication of the jaffle shop CSVs (seed 001's replication_csv.yaml) into `raw`."""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster_sling import DagsterSlingTranslator, SlingResource, sling_assets
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.tools import ensure_local_tools

from lakehouse_ingestion.csv_contract import CsvContractError, check_csv

REPLICATION_FILE = Path(__file__).with_name("replication_csv.yaml")
GROUP = "jaffle_shop_raw"


def resolve_replication(replication: Mapping[str, Any], data_dir: Path) -> dict[str, Any]:
    """Turn stream names relative to data/ into absolute file URLs.

    Sling resolves relative paths against its working directory, which differs between the
    UI, a run worker and the tests; an absolute URL is the same everywhere.
    """
    streams = {
        (name if "://" in name else f"file://{(data_dir / name).resolve()}"): config
        for name, config in replication["streams"].items()
    }
    return {**replication, "streams": streams}


class RawTableTranslator(DagsterSlingTranslator):
    """Key each stream by its target object (`raw.raw_orders` -> raw/raw_orders).

    The default translator keys by the file path and adds a phantom upstream asset.
    """

    def get_asset_spec(self, stream_definition: Mapping[str, Any]) -> dg.AssetSpec:
        spec = super().get_asset_spec(stream_definition)
        target = stream_definition["config"]["object"]
        return spec.replace_attributes(key=dg.AssetKey(target.split(".")), deps=[], group_name=GROUP)


def _file_path(stream_name: str) -> Path:
    return Path(stream_name.removeprefix("file://"))


def build_jaffle_shop_files(settings: LakehouseSettings) -> dg.AssetsDefinition:
    replication = resolve_replication(yaml.safe_load(REPLICATION_FILE.read_text()), settings.data_dir)
    translator = RawTableTranslator()
    stream_by_key = {
        translator.get_asset_spec({"name": name, "config": config}).key: (name, config)
        for name, config in replication["streams"].items()
    }

    @sling_assets(
        replication_config=replication,
        dagster_sling_translator=translator,
        name="jaffle_shop_files",
        pool=WAREHOUSE_POOL,
    )
    def jaffle_shop_files(context: dg.AssetExecutionContext, sling: SlingResource) -> Iterator[Any]:
        ensure_local_tools()
        for key in sorted(context.selected_asset_keys):
            name, config = stream_by_key[key]
            try:
                rows = check_csv(_file_path(name), config["columns"])
            except CsvContractError as err:
                raise dg.Failure(
                    description=f"{key.to_user_string()} rejected: {err}",
                    metadata={"file": str(err.path), "line": err.line or 0, "problem": err.problem},
                ) from None
            context.log.info(f"{_file_path(name).name}: {rows} rows match the declared columns")
        yield from sling.replicate(context=context).fetch_row_count()

    return jaffle_shop_files
