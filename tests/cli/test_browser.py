"""`task dev` in a real headless browser (Debian's Chromium, driven by Playwright): the four code
locations load with their automation sensors running and the bundle deployed by the real Databricks
CLI, one Databricks asset materializes from its page's Materialize button, its page then
shows the table's columns, and its Databricks run link opens the stand-in's run page, whose task
page shows the task's state and output. Everything the test starts (the UI, the stand-ins and their
Spark, Chromium and Playwright's driver) is stopped and checked gone.

Chromium comes from Debian's packages (`apt-get install -y chromium`, which `.ci/run` does), never
from `playwright install`: Playwright only drives the browser at /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from cli_support import require_cli
from lakehouse_resources.settings import LakehouseSettings
from runtime_support import (
    LOCATIONS,
    LOCATIONS_QUERY,
    alive,
    children,
    descendants,
    lakehouse,
    stop,
    wait_for,
)
from testsupport import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.slow, pytest.mark.spark, pytest.mark.browser, pytest.mark.databricks_cli]

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and quiet: without these Chromium keeps calling Google's services (updates, sync, QUIC
# probes), which a closed network answers with nothing but delays.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# One materialization gives all three pages: seed 004's stream join is a deployed Databricks job with
# no upstream asset (it reads Spark's rate source; locally 3 micro-batches of a fixed input), its
# materialization records the table's columns and the run's link, and its task prints a
# STREAM_MONITOR line per micro-batch and a closing summary.
STREAM = "template_domain/template_source/staging/impression_clicks"
STREAM_COLUMNS = {
    "impression_id": "bigint",
    "impression_time": "timestamp",
    "click_time": "timestamp",
    "seconds_to_click": "double",
}

SENSORS_QUERY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    location { name }
    sensors { id name sensorType sensorState { status } }
    schedules { name }
} } } }
"""
STOP_SENSOR = """
mutation ($id: String!) { stopSensor(id: $id) {
    __typename ... on StopSensorMutationResult { instigationState { status } }
} }
"""
RUN_QUERY = "query ($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"


def require_chromium() -> Path:
    """Debian's Chromium; under CI=true its absence fails the test (a green CI means a browser ran)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"no Chromium at {CHROMIUM}: install Debian's chromium (`apt-get install -y chromium`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
    )
    response.raise_for_status()
    return response.json()["data"]


def locations_loaded(port: int) -> bool:
    try:
        entries = graphql(port, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
    except (httpx.HTTPError, KeyError, TypeError, ValueError):
        return False
    return {e["name"] for e in entries} == LOCATIONS and all(e["loadStatus"] == "LOADED" for e in entries)


def check_automation_runs(nodes: list[dict]) -> None:
    """Every location evaluates its automation conditions as soon as the UI (and daemon) start."""
    automation = {
        node["location"]["name"]: {
            sensor["name"]: sensor["sensorState"]["status"]
            for sensor in node["sensors"]
            if sensor["sensorType"] == "AUTO_MATERIALIZE"  # automation condition sensors
        }
        for node in nodes
    }
    assert set(automation) >= {"ingestion", "transformation", "downstream"}
    for location in ("transformation", "downstream"):  # ingestion's assets have no condition
        assert automation[location], f"{location} has no automation sensor"
    for location, sensors in automation.items():
        assert set(sensors.values()) <= {"RUNNING"}, (location, sensors)
    assert "kaizen_wars_dlt_schedule" in {
        schedule["name"] for node in nodes for schedule in node["schedules"]
    }


def stop_sensors(port: int) -> None:
    """Automation off before anything materializes: otherwise the sensors would start runs of their
    own (the landing feeds' pipelines, Spark work nobody looks at) beside the one under test."""
    nodes = graphql(port, SENSORS_QUERY)["repositoriesOrError"]["nodes"]
    check_automation_runs(nodes)
    for sensor in (s for node in nodes for s in node["sensors"]):
        if sensor["sensorState"]["status"] == "RUNNING":
            result = graphql(port, STOP_SENSOR, {"id": sensor["id"]})["stopSensor"]
            assert result["instigationState"]["status"] == "STOPPED", (sensor["name"], result)


def run_ended(port: int, run_id: str) -> str | None:
    status = graphql(port, RUN_QUERY, {"id": run_id})["runOrError"].get("status")
    return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None


@contextmanager
def chromium_page(profile: Path) -> Iterator[tuple[Page, set[int]]]:
    """A page in Debian's Chromium with a fresh profile, and the pids Playwright started (its driver
    and, under it, the browser's processes); all of them are gone once the block ends."""
    from playwright.sync_api import sync_playwright

    before = {pid for pid, _ in children(os.getpid())}
    started: set[int] = set()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            drivers = {pid for pid, _ in children(os.getpid())} - before
            started = drivers | {pid for driver in drivers for pid in descendants(driver)}
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page, started
        finally:
            context.close()
    wait_for(lambda: not any(alive(pid) for pid in started), "Chromium and Playwright's driver to stop", 30)


def test_the_ui_in_a_browser(
    local_settings: LakehouseSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_chromium()
    require_cli()  # task dev deploys the bundle with the real CLI when it is here
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # the UI's queries answer slowly on a busy machine

    port = free_port()
    monkeypatch.setenv("DAGSTER_PORT", str(port))
    ui = f"http://127.0.0.1:{port}"
    dev_log = tmp_path / "dev.log"
    dev = lakehouse("dev", log=dev_log)
    browser_pids: set[int] = set()
    try:
        wait_for(lambda: dev.poll() is not None or locations_loaded(port), "the four locations", 240)
        assert dev.poll() is None, dev_log.read_text()[-3000:]
        stop_sensors(port)
        # The UI's one-time community dialog (shown on 127.0.0.1 until dismissed) would cover the page.
        assert graphql(port, "mutation { setNuxSeen }")["setNuxSeen"] is True
        # The job is looked up by its deployed name: wait for `task dev`'s bundle deploy, which the
        # real CLI makes, beside the code servers' start.
        wait_for(lambda: "bundle deploy:" in dev_log.read_text(), "the bundle deploy", 180)
        assert "bundle deploy: databricks CLI" in dev_log.read_text(), dev_log.read_text()[-3000:]

        with chromium_page(tmp_path / "chromium-profile") as (page, browser_pids):
            # Deployment > Code locations: the four locations, each loaded.
            page.goto(f"{ui}/locations")
            expect(page.get_by_text(f"{len(LOCATIONS)} code locations")).to_be_visible()
            for name in sorted(LOCATIONS):
                row = page.locator("[data-index]").filter(has=page.locator(f"a[href='/locations/{name}/']"))
                expect(row).to_contain_text("Loaded")

            # Materialize the stream join from its asset page, as a user does.
            page.goto(f"{ui}/assets/{STREAM}")
            page.locator("button").filter(has_text=re.compile(r"^Materialize$")).first.click()
            toast = page.get_by_text(re.compile(r"^Launched run [0-9a-f]{8}$"))
            expect(toast).to_be_visible()
            short_id = toast.inner_text().split()[-1]
            page.get_by_text("View", exact=True).click()  # the toast's way to the run
            page.wait_for_url(re.compile(rf"/runs/{short_id}[0-9a-f-]{{28}}$"))
            run_id = page.url.rsplit("/", 1)[-1]
            status = wait_for(lambda: run_ended(port, run_id), f"run {run_id} to end", 600)
            if status != "SUCCESS":
                # The stream's blocking health check alerts on a micro-batch over 45 s, which a cold
                # JVM on a loaded machine can take: the job then succeeded and the table and its
                # link are recorded; the pages under test are the same. Any other failure fails.
                log = dev_log.read_text()
                assert status == "FAILURE", log[-3000:]
                assert "1 blocking asset check failed" in log, log[-3000:]
                assert f"{STREAM}: stream_healthy" in log, log[-3000:]

            # Its page now lists the table's columns with their types.
            page.goto(f"{ui}/assets/{STREAM}")
            columns = page.locator("table").filter(has_text="Column name")
            expect(columns).to_be_visible()
            for column, kind in STREAM_COLUMNS.items():
                expect(columns.locator("tr").filter(has_text=column)).to_contain_text(kind)

            # The materialization links its Databricks run: the link opens the stand-in's run page
            # with the run's state, whose task page shows the task's output.
            link = page.locator("a[href*='/#job/']").first
            href = link.get_attribute("href") or ""
            assert href.startswith(f"http://127.0.0.1:{local_settings.databricks_standin_port}/"), href
            job_run = href.rsplit("/", 1)[-1]
            page.goto(href)
            page.wait_for_url(f"**/standin/runs/{job_run}")
            expect(page.locator("h1")).to_contain_text(f"Run {job_run} of job")
            expect(page.get_by_text("State:")).to_contain_text("TERMINATED SUCCESS")
            page.get_by_role("link", name="stream_join").click()
            expect(page.locator("h1")).to_contain_text(f"Task stream_join of run {job_run}")
            expect(page.get_by_text("State:")).to_contain_text("TERMINATED SUCCESS")
            expect(page.get_by_role("heading", name="Output (stdout)")).to_be_visible()
            output = page.locator("h2:has-text('Output (stdout)') + pre")
            expect(output).to_contain_text(re.compile(r'STREAM_MONITOR \{[^\n]*"batch_id": 2,'))
            expect(output).to_contain_text(re.compile(r'stream join stopped: \{[^\n]*"input_rows": 1125,'))
    finally:
        code, survivors = stop(dev)
    assert code == 0, "a Ctrl-C is a clean stop"
    assert not survivors, f"processes outlived lakehouse dev: {survivors}"
    assert browser_pids, "Playwright started no process of its own"
    assert not any(alive(pid) for pid in browser_pids)
    assert not (local_settings.standin_registry_dir / "server.json").exists(), "the stand-ins still run"
