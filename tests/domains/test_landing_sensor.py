"""Landing Volumes as external assets, and the file-arrival sensor that reports them.

The sensor lists each landing Volume through the Files API of a Spark-less Databricks stand-in (the
one `task dev` runs serves the same API over its volumes folder) and reports a materialization of
each Volume whose files changed; the bronze and raw tables depend on their Volume.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from lakehouse_cli.bundle import upload_sample_feeds
from lakehouse_domains.defs.automation import automation_condition
from lakehouse_domains.defs.build import build_domains_defs
from lakehouse_domains.defs.landing import LANDING_SENSOR, landing_key, landing_sensor, landing_volumes
from lakehouse_resources.automation import EAGER_LABEL, MANUAL_LABEL
from lakehouse_resources.databricks import LakehouseDatabricksClient, databricks_client_from_settings
from lakehouse_resources.platform.specs import load_specs
from lakehouse_resources.platform.targets import bundle_for
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.databricks.sample import write_sample_warehouse
from testsupport import NO_SPARK, REPO

BUNDLE = bundle_for(REPO)
SPECS = load_specs(BUNDLE.root)
LOCAL = BUNDLE.target("local")
MEMBER = landing_key("member", "enrollment")
CLAIMS = landing_key("claims", "adjudication")


def standin_resource(standin: DatabricksStandin) -> LakehouseDatabricksClient:
    """The resource the sensor gets, pointed at the test's stand-in."""
    fields = {"host": standin.url, "token": standin.token, "retry_timeout_seconds": 5}
    return LakehouseDatabricksClient(**fields)


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[DatabricksStandin]:
    volumes = {
        "/".join(v.path.removeprefix("/Volumes/").split("/")[:3]) for v in landing_volumes(SPECS, LOCAL)
    }
    warehouse = write_sample_warehouse(tmp_path / "warehouse.duckdb")
    with DatabricksStandin(
        tmp_path / "standin", warehouse, spark_remote=NO_SPARK, known_volumes=sorted(volumes)
    ) as running:
        yield running


class Sensor:
    """The landing sensor evaluated tick after tick, its cursor carried as the daemon carries it."""

    def __init__(self, resource: LakehouseDatabricksClient) -> None:
        self.definition = landing_sensor(landing_volumes(SPECS, LOCAL))
        self.resource = resource
        self.cursor: str | None = None

    def tick(self) -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(
            cursor=self.cursor, resources={"databricks_workspace": self.resource}
        )
        result = self.definition(context)
        if isinstance(result, dg.SensorResult):
            self.cursor = result.cursor
        assert isinstance(result, dg.SensorResult | dg.SkipReason)
        return result

    def reported(self) -> set[dg.AssetKey]:
        result = self.tick()
        assert isinstance(result, dg.SensorResult), result
        return {event.asset_key for event in result.asset_events}


def test_every_pipeline_root_reads_its_landing_volume(local_settings: LakehouseSettings) -> None:
    volumes = landing_volumes(SPECS, LOCAL)
    assert {v.key for v in volumes} == {
        MEMBER,
        CLAIMS,
        landing_key("finance", "erp"),
        landing_key("template_domain", "template_source"),
    }
    assert {v.path for v in volumes if v.key == MEMBER} == {
        LOCAL.variables["landing_root"].format(domain="member", source="enrollment")
    }
    graph = build_domains_defs(local_settings).resolve_asset_graph()
    readers = {
        key for key in graph.get_all_asset_keys() if set(graph.get(key).parent_keys) & {MEMBER, CLAIMS}
    }
    assert {key.to_user_string() for key in readers} == {
        "member/enrollment/bronze/members",
        "claims/adjudication/bronze/claim_lines",
    }
    for volume in volumes:
        assert not graph.get(volume.key).is_materializable, "no Dagster run writes a landing Volume"


def test_continuous_work_is_left_to_databricks_where_it_runs_continuously() -> None:
    continuous = {spec.key for spec in SPECS.specs if getattr(spec.spec, "continuous", False)}
    assert continuous == {
        "template_domain_template_source_staging_basic_continuous",
        "template_domain_template_source_staging_low_latency_stream_join_simple",
    }
    for spec in SPECS.specs:
        for target in ("local", "dev", "staging", "prod"):
            label = automation_condition(spec, BUNDLE.target(target)).get_label()
            manual = spec.key in continuous and target == "prod"
            assert label == (MANUAL_LABEL if manual else EAGER_LABEL), (spec.key, target)


def test_landed_files_are_reported_once_per_change(standin: DatabricksStandin) -> None:
    sensor = Sensor(standin_resource(standin))
    # Nothing landed: nothing to report.
    first = sensor.tick()
    assert isinstance(first, dg.SensorResult)
    assert first.asset_events == []
    client = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=5))
    uploaded = upload_sample_feeds(client, BUNDLE.root, LOCAL)
    assert uploaded
    result = sensor.tick()
    assert isinstance(result, dg.SensorResult)
    events = {event.asset_key: event for event in result.asset_events}
    assert set(events) == {v.key for v in landing_volumes(SPECS, LOCAL)}
    member = LOCAL.variables["landing_root"].format(domain="member", source="enrollment")
    member_files = [path for path in uploaded if path.startswith(f"{member}/")]
    assert member_files
    assert events[MEMBER].metadata["files"] == dg.IntMetadataValue(len(member_files))
    # Unchanged: nothing again.
    assert sensor.reported() == set()
    # A new file in one Volume: that Volume alone.
    time.sleep(0.01)
    folder = LOCAL.variables["landing_root"].format(domain="claims", source="adjudication")
    client.files.upload(f"{folder}/claim_lines/late.csv", io.BytesIO(b"x\n"), overwrite=True)
    assert sensor.reported() == {CLAIMS}
    assert sensor.reported() == set()


def test_a_stand_in_that_is_not_running_is_a_skip_naming_it(local_settings: LakehouseSettings) -> None:
    # local_settings points at a free port: nothing answers there.
    sensor = Sensor(databricks_client_from_settings(local_settings))
    started = time.monotonic()
    result = sensor.tick()
    assert isinstance(result, dg.SkipReason)
    assert "stand-in is not running" in (result.skip_message or "")
    assert "task standins" in (result.skip_message or "")
    assert time.monotonic() - started < 10


def test_the_sensor_is_on_by_default(local_settings: LakehouseSettings) -> None:
    defs = build_domains_defs(local_settings)
    sensors = {sensor.name: sensor for sensor in defs.sensors or []}
    assert sensors[LANDING_SENSOR].default_status is dg.DefaultSensorStatus.RUNNING
