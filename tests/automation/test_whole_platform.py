"""After "Materialize all" on ingestion, automation carries every asset of every location.

The domains' roots (bronze and raw tables) depend on their landing Volume, an external asset that
the sensor `domains_landing_files` reports once files land: here the real sensor lists a Databricks
stand-in (no Spark) after the sample feeds are uploaded, as `task dev`'s deploy does, and its
report goes to the same instance the conditions are evaluated on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pytest
from automation_support import Lakehouse, Ticks
from lakehouse_cli.bundle import upload_sample_feeds
from lakehouse_domains.defs.landing import LANDING_SENSOR
from lakehouse_resources.asset_keys import JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL
from lakehouse_resources.databricks import LakehouseDatabricksClient
from lakehouse_resources.platform.targets import bundle_for
from testsupport import REPO

if TYPE_CHECKING:
    from lakehouse_standins.databricks import DatabricksStandin


def landing_sensor(lakehouse: Lakehouse) -> dg.SensorDefinition:
    return next(s for s in lakehouse.locations["domains"].sensors or [] if s.name == LANDING_SENSOR)


def landing_keys(lakehouse: Lakehouse) -> set[dg.AssetKey]:
    graph = lakehouse.locations["domains"].resolve_asset_graph()
    # The location's own external assets; other locations' assets it depends on are stubs here.
    return {
        key
        for key in graph.get_all_asset_keys()
        if not graph.get(key).is_materializable and "volume" in graph.get(key).metadata
    }


def standin_resource(standin: DatabricksStandin) -> LakehouseDatabricksClient:
    """The resource the sensor gets, pointed at the test's stand-in."""
    fields = {"host": standin.url, "token": standin.token, "retry_timeout_seconds": 5}
    return LakehouseDatabricksClient(**fields)


@pytest.fixture
def standin(tmp_path: Path, lakehouse: Lakehouse) -> Iterator[DatabricksStandin]:
    """A Spark-less stand-in that knows the local target's landing Volumes."""
    from lakehouse_standins.databricks import DatabricksStandin
    from lakehouse_standins.databricks.sample import write_sample_warehouse
    from testsupport import NO_SPARK

    graph = lakehouse.locations["domains"].resolve_asset_graph()
    volumes = {
        "/".join(str(graph.get(key).metadata["volume"]).removeprefix("/Volumes/").split("/")[:3])
        for key in landing_keys(lakehouse)
    }
    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    with DatabricksStandin(
        tmp_path / "standin", warehouse, spark_remote=NO_SPARK, known_volumes=sorted(volumes)
    ) as running:
        yield running


def report_landing(lakehouse: Lakehouse, ticks: Ticks, standin: DatabricksStandin) -> set[str]:
    """Evaluate the landing sensor once and record what it reports, as the sensor daemon does."""
    context = dg.build_sensor_context(
        instance=ticks.instance,
        cursor=ticks.sensor_cursor,
        resources={"databricks_workspace": standin_resource(standin)},
    )
    result = landing_sensor(lakehouse)(context)
    assert isinstance(result, dg.SensorResult), result
    ticks.sensor_cursor = result.cursor
    for event in result.asset_events:
        ticks.instance.report_runless_asset_event(event)
    return {event.asset_key.to_user_string() for event in result.asset_events}


def test_ingestion_then_landed_feeds_request_every_other_asset_of_every_location(
    lakehouse: Lakehouse, standin: DatabricksStandin
) -> None:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    graph = lakehouse.graph().resolve_asset_graph()
    roots = {key for key in graph.get_all_asset_keys() if not graph.get(key).parent_keys}
    ticks = Ticks(lakehouse.graph())
    ticks.sensor_cursor = None
    assert ticks.tick() == set()
    # Nothing landed yet: the sensor reports nothing, and nothing runs.
    assert report_landing(lakehouse, ticks, standin) == set()

    ticks.materialized(*JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL)
    client = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=5))
    assert upload_sample_feeds(client, REPO / "databricks", bundle_for(REPO).target("local"))
    reported = report_landing(lakehouse, ticks, standin)
    assert reported == {key.to_user_string() for key in landing_keys(lakehouse)}

    requested = ticks.tick()
    # Every asset with an upstream asset, in all four locations, in one tick (a layer's checks ride
    # along in its run), and then nothing more until something new lands.
    expected = {key.to_user_string() for key in graph.materializable_asset_keys - roots}
    assert sorted(expected - requested) == []
    assert requested == expected
    assert any(key.startswith(("member/", "claims/")) for key in requested)
    assert report_landing(lakehouse, ticks, standin) == set()
    assert ticks.tick() == set()


def test_every_root_has_a_schedule_a_sensor_or_an_observation(lakehouse: Lakehouse) -> None:
    graph = lakehouse.graph().resolve_asset_graph()
    roots = {key for key in graph.get_all_asset_keys() if not graph.get(key).parent_keys}
    scheduled = {
        key
        for defs in lakehouse.locations.values()
        for schedule in defs.schedules or []
        if isinstance(schedule, dg.ScheduleDefinition)
        for key in defs.resolve_job_def(schedule.job_name).asset_layer.selected_asset_keys
    }
    # Reported by the landing sensor (the test above runs it); observed by a continuous job's
    # state sensor, named after the job's asset definition.
    domains = lakehouse.locations["domains"]
    sensor_names = {sensor.name for sensor in domains.sensors or []}
    observed = {
        key
        for assets in domains.assets or []
        if isinstance(assets, dg.AssetsDefinition) and f"{assets.node_def.name}_stream_state" in sensor_names
        for key in assets.keys
    }
    assert LANDING_SENSOR in sensor_names
    uncovered = roots - scheduled - landing_keys(lakehouse) - observed
    assert {key.to_user_string() for key in uncovered} == set()
    assert observed, "the continuous stream job's asset is observed by its state sensor"
