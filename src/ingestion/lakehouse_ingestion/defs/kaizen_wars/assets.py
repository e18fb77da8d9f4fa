"""dlt load of the Kaizen Wars game events (seed 002's dlt_kaizen_wars_fact_virtual) into `raw`."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.common.destination import Destination
from lakehouse_resources.asset_keys import RAW_FACT_VIRTUAL
from lakehouse_resources.pools import WAREHOUSE_POOL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.tables import table_name
from lakehouse_resources.tools import ensure_local_tools

from lakehouse_ingestion.defs.kaizen_wars.load_metadata import readable_load_metadata

FACT_VIRTUAL_COLUMNS = {
    "event_id": "int64",
    "player_id": "string",
    "event_ts": "timestamp[s]",
    "item_id": "string",
    "quantity": "int64",
    "price_gems": "int64",
    "platform": "string",
    "country": "string",
}


@dlt.source(name="kaizen_wars")
def kaizen_wars_source(csv_path: str) -> Any:
    @dlt.resource(
        name="fact_virtual",
        write_disposition="replace",
        primary_key="event_id",
        columns={"event_ts": {"data_type": "timestamp", "timezone": False}},
    )
    def fact_virtual() -> Iterator[Any]:
        # Arrow batches with declared types: a malformed value fails extraction, before the
        # destination table is touched, and dlt skips its slow row-by-row normalizer.
        import pyarrow as pa
        import pyarrow.csv as pacsv

        schema = pa.schema([(name, pa.type_for_alias(kind)) for name, kind in FACT_VIRTUAL_COLUMNS.items()])
        try:
            with pacsv.open_csv(
                csv_path, convert_options=pacsv.ConvertOptions(column_types=schema)
            ) as reader:
                for batch in reader:
                    yield pa.Table.from_batches([batch])
        except pa.ArrowInvalid as exc:
            raise ValueError(f"{csv_path}: {exc}") from None

    return fact_virtual


class RawDatasetTranslator(DagsterDltTranslator):
    """Key the resource as raw/fact_virtual with no upstream (the default adds a phantom one), named
    as dbt names the table (the default is the bare resource name), with its destination's kind."""

    def __init__(self, table: str, destination_name: str) -> None:
        super().__init__()
        self.table = table
        self.destination_name = destination_name

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(
            key=RAW_FACT_VIRTUAL,
            deps=[],
            group_name="kaizen_wars_raw",
            description="Kaizen Wars in-game virtual purchases (data/raw_fact_virtual.csv), loaded by dlt"
            " with declared column types.",
        ).merge_attributes(
            kinds={self.destination_name},
            metadata={"dagster/table_name": self.table, "dagster/storage_kind": self.destination_name},
        )


def kaizen_wars_destination(settings: LakehouseSettings) -> Destination[Any, Any]:
    if settings.is_local:
        return dlt.destinations.duckdb(credentials=str(settings.duckdb_path))
    token = settings.databricks_token
    # dlt resolves and connects only when the pipeline runs, so loading stays offline.
    return dlt.destinations.databricks(
        credentials={
            "server_hostname": settings.databricks_hostname,
            "http_path": settings.databricks_http_path,
            "catalog": settings.catalog,
            "access_token": token.get_secret_value() if token else None,
        }
    )


def kaizen_wars_pipeline(settings: LakehouseSettings) -> dlt.Pipeline:
    """Made only in the run: making a dlt pipeline creates its working folder, or wipes it when it
    holds no state yet, which a Definitions load in another process must never do to a running load."""
    return dlt.pipeline(
        pipeline_name="kaizen_wars",
        destination=kaizen_wars_destination(settings),
        dataset_name="raw",
        pipelines_dir=str(settings.warehouse_state_dir / "dlt"),
    )


def build_kaizen_wars_load(settings: LakehouseSettings) -> dg.AssetsDefinition:
    csv_path = str(Path(settings.data_dir) / "raw_fact_virtual.csv")
    table = table_name(settings, "raw", "fact_virtual")
    source = kaizen_wars_source(csv_path)
    translator = RawDatasetTranslator(table, kaizen_wars_destination(settings).destination_name)
    # dagster-dlt's `build_dlt_asset_specs` wants the pipeline (only for its destination's name)
    # and puts it, the source and the translator on the specs as metadata the UI cannot show.
    specs = [
        translator.get_asset_spec(DltResourceTranslatorData(resource=resource, pipeline=None))
        for resource in source.selected_resources.values()
    ]

    @dg.multi_asset(
        specs=specs,
        name="kaizen_wars_fact_virtual",
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def kaizen_wars_fact_virtual(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Iterator[Any]:
        ensure_local_tools()
        pipeline = kaizen_wars_pipeline(settings)
        events = dlt.run(
            context=context, dlt_source=source, dlt_pipeline=pipeline, dagster_dlt_translator=translator
        ).fetch_row_count()
        for event in events:
            load = pipeline.last_trace.last_load_info if pipeline.last_trace else None
            metadata = readable_load_metadata(event.metadata or {}, load)
            # dagster-dlt names the table `<destination>.<dataset>.<table>` ("duckdb.raw..."): keep ours.
            metadata["dagster/table_name"] = table
            if isinstance(event, dg.MaterializeResult):
                yield dg.MaterializeResult(asset_key=event.asset_key, metadata=metadata)
            else:
                yield event.with_metadata(metadata)

    return kaizen_wars_fact_virtual
