"""The local runtime under abuse: kill -9 mid-run, signals while waiting, shared stand-ins, a busy port."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import dagster as dg
import pytest
from lakehouse_cli.home import local_instance
from lakehouse_resources.settings import LakehouseSettings, get_settings
from runtime_support import (
    JAFFLE_SHOP_CHAIN,
    alive,
    children,
    hold_the_pool,
    killed_or_doomed,
    lakehouse,
    pool_info,
    release_the_pool,
    runs_waiting,
    wait_for,
)
from testsupport import query

pytestmark = pytest.mark.slow


def test_kill_9_during_dbt_frees_the_pool_and_takes_dbt_along(
    local_settings: LakehouseSettings, tmp_path: Path
) -> None:
    first = lakehouse("pipeline", "--select", JAFFLE_SHOP_CHAIN, log=tmp_path / "first.log")
    try:
        dbt = wait_for(
            lambda: next((pid for pid, cmd in children(first.pid) if "dbt" in cmd and " build" in cmd), None),
            "dbt build to start under the first pipeline",
        )
    finally:
        first.kill()  # kill -9
        first.wait()
    assert isinstance(dbt, int)
    # dbt dies with its parent, not left holding the lock: at once when its parent-death signal was
    # set, or at the launcher's first line when the parent died while its interpreter was starting.
    wait_for(lambda: killed_or_doomed(dbt), f"dbt {dbt} to die with its killed parent", timeout=60)
    with local_instance(local_settings) as instance:
        holders = {slot.run_id for slot in pool_info(instance).claimed_slots}
        assert len(holders) == 1, "the killed run should still hold the warehouse slot"
        dead_run = holders.pop()

    second = lakehouse("pipeline", "--select", JAFFLE_SHOP_CHAIN, log=tmp_path / "second.log")
    assert second.wait(timeout=600) == 0, (tmp_path / "second.log").read_text()[-3000:]
    out = (tmp_path / "second.log").read_text()
    assert f"run {dead_run} died with its process {first.pid}: marked failed, pool slots freed" in out
    with local_instance(local_settings) as instance:
        run = instance.get_run_by_id(dead_run)
        assert run is not None
        assert run.status == dg.DagsterRunStatus.FAILURE
        assert not pool_info(instance).claimed_slots
    assert query(local_settings, "select count(*) from analytics.customer_segments") == [(4,)]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_run_waiting_for_the_pool_stops_on_a_signal(
    local_settings: LakehouseSettings, tmp_path: Path, signum: signal.Signals
) -> None:
    log = tmp_path / "waiting.log"
    with local_instance(local_settings) as instance:
        holder = hold_the_pool(instance)
        try:
            waiting = lakehouse("pipeline", "--select", 'key:"raw/raw_orders"', log=log)
            try:
                run_id = wait_for(lambda: runs_waiting(instance), "the run to wait for the pool")
                waiting.send_signal(signum)
                code = waiting.wait(timeout=120)
            finally:
                if waiting.poll() is None:
                    waiting.kill()
                    waiting.wait()
            assert code == 128 + signum, log.read_text()[-3000:]
            (run_id,) = run_id  # type: ignore[misc]
            assert f"stopped by {signum.name}: run {run_id} canceled" in log.read_text()
            run = instance.get_run_by_id(run_id)
            assert run is not None
            assert run.status == dg.DagsterRunStatus.CANCELED
            assert not runs_waiting(instance), "the stopped run still waits for a slot"
        finally:
            release_the_pool(instance, holder)


def test_stand_ins_are_shared_counted_and_never_a_strangers(
    local_settings: LakehouseSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRPC_ENABLE_FORK_SUPPORT")  # the tests' own: the server must set it itself
    # A stranger listens on the configured Databricks port: it must not be used.
    stranger = socket.socket()
    stranger.bind(("127.0.0.1", local_settings.databricks_standin_port))
    stranger.listen()
    registry = local_settings.state_dir / "standins" / "server.json"
    first = lakehouse("standins", log=tmp_path / "first.log")
    second = None
    try:
        wait_for(lambda: "Ctrl-C to stop" in (tmp_path / "first.log").read_text(), "the first user")
        server = _server(registry)
        # The server forks tasks while its threads use Spark Connect: gRPC's fork handlers are off.
        environ = Path(f"/proc/{server['pid']}/environ").read_bytes().split(b"\0")
        assert b"GRPC_ENABLE_FORK_SUPPORT=false" in environ
        assert server["databricks_port"] != local_settings.databricks_standin_port
        assert f"port {local_settings.databricks_standin_port}" in (tmp_path / "first.log").read_text()
        second = lakehouse("standins", log=tmp_path / "second.log")
        wait_for(lambda: "Ctrl-C to stop" in (tmp_path / "second.log").read_text(), "the second user")
        assert "stand-ins joined" in (tmp_path / "second.log").read_text()
        assert _server(registry)["pid"] == server["pid"]
        # The first user leaves: the second still has its stand-ins.
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
        assert alive(server["pid"])
        assert _answers(server["dbt_cloud_port"])
        # The last user is killed outright: the server notices and stops by itself.
        second.kill()
        second.wait()
        wait_for(lambda: not alive(server["pid"]), "the stand-ins to stop after their last user", 60)
        assert not registry.exists()
    finally:
        stranger.close()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_second_warehouse_in_the_same_folder_gets_stand_ins_of_its_own(
    local_settings: LakehouseSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Joining the first warehouse's stand-ins would run the second's notebooks on the first's
    # tables (issue 20): the other file's runs, Spark catalog and registry live apart.
    monkeypatch.setenv("LAKEHOUSE_STANDIN_SPARK_AT_START", "false")
    other_warehouse = local_settings.state_dir / "lake_other.duckdb"
    first = lakehouse("standins", log=tmp_path / "first.log")
    second = None
    try:
        wait_for(lambda: "Ctrl-C to stop" in (tmp_path / "first.log").read_text(), "the first warehouse's")
        monkeypatch.setenv("LAKEHOUSE_DUCKDB_PATH", str(other_warehouse))
        other_settings = get_settings()
        second = lakehouse("standins", log=tmp_path / "second.log")
        wait_for(lambda: "Ctrl-C to stop" in (tmp_path / "second.log").read_text(), "the second warehouse's")

        assert "stand-ins started" in (tmp_path / "second.log").read_text()
        mine = _server(local_settings.standin_registry_dir / "server.json")
        other = _server(other_settings.standin_registry_dir / "server.json")
        assert (
            other_settings.standin_registry_dir
            == local_settings.state_dir / "warehouses" / "lake_other" / "standins"
        )
        assert (mine["warehouse"], other["warehouse"]) == (
            str(local_settings.duckdb_path),
            str(other_warehouse),
        )
        assert mine["pid"] != other["pid"]
        assert mine["databricks_port"] != other["databricks_port"]
        # A code server of either warehouse (`dg dev`, no port variables) finds its own stand-in.
        monkeypatch.delenv("LAKEHOUSE_DATABRICKS_STANDIN_PORT")
        assert get_settings().databricks_standin_port == other["databricks_port"]
        monkeypatch.setenv("LAKEHOUSE_DUCKDB_PATH", str(local_settings.duckdb_path))
        assert get_settings().databricks_standin_port == mine["databricks_port"]
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)


def test_dev_on_a_busy_port_exits_non_zero_and_starts_nothing(
    local_settings: LakehouseSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    monkeypatch.setenv("DAGSTER_PORT", str(port))
    try:
        dev = lakehouse("dev", log=tmp_path / "dev.log")
        assert dev.wait(timeout=120) == 1
    finally:
        busy.close()
    out = (tmp_path / "dev.log").read_text()
    assert f"127.0.0.1:{port} address already in use (DAGSTER_PORT)" in out
    assert not children(dev.pid)
    assert not (local_settings.state_dir / "standins" / "server.json").exists()


def _server(registry: Path) -> dict:
    import json

    return json.loads(registry.read_text())


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
