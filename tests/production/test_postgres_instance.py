"""deploy/dagster.yaml against a real PostgreSQL: runs and their events are stored there."""

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings, get_settings
from test_postgres_replication import seed_shop

pytestmark = pytest.mark.postgres

ORDERS = dg.AssetKey(["raw_pg", "orders"])


@pytest.fixture
def dagster_database(postgres_server) -> str:
    """Dagster's own database, apart from the source database the replication reads."""
    return postgres_server.create_database(f"dagster_{os.urandom(3).hex()}")


@pytest.fixture
def production_home(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, postgres_server, dagster_database: str
) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml unchanged, its variables pointed at the test server."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(repo_root() / "deploy" / "dagster.yaml", home / "dagster.yaml")
    for name, value in {
        "DAGSTER_PG_HOST": postgres_server.host,
        "DAGSTER_PG_PORT": str(postgres_server.port),
        "DAGSTER_PG_USER": postgres_server.user,
        "DAGSTER_PG_PASSWORD": postgres_server.password,
        "DAGSTER_PG_DB": dagster_database,
    }.items():
        clean_env.setenv(name, value)
    return home


def test_a_materialization_is_stored_in_postgres_and_read_back(
    production_home: Path,
    local_settings: LakehouseSettings,
    postgres_server,
    postgres_database: str,
    dagster_database: str,
    clean_env: pytest.MonkeyPatch,
) -> None:
    seed_shop(postgres_server, postgres_database, local_settings.data_dir)
    clean_env.setenv("LAKEHOUSE_POSTGRES_URL", postgres_server.url(postgres_database))
    defs = build_ingestion_defs(get_settings())

    with dg.DagsterInstance.from_config(str(production_home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        result = dg.materialize(
            [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
            resources=dict(defs.resources or {}),
            selection=dg.AssetSelection.groups("shop_postgres_raw"),
            instance=instance,
        )
        assert result.success
        run_id = result.run_id

    # A new instance (as the webserver or daemon would open) reads the run and its events back.
    with dg.DagsterInstance.from_config(str(production_home)) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        assert run.status == dg.DagsterRunStatus.SUCCESS
        materialization = instance.get_latest_materialization_event(ORDERS)
        assert materialization is not None
        assert materialization.run_id == run_id
        records = instance.get_records_for_run(run_id).records
        assert any(r.event_log_entry.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for r in records)

    # And they are rows in the PostgreSQL database the variables named, not in a local file.
    con = postgres_server.connect(dagster_database)
    with con, con.cursor() as cur:
        cur.execute("select status from runs where run_id = %s", (run_id,))
        assert cur.fetchall() == [("SUCCESS",)]
        cur.execute("select count(*) from event_logs where run_id = %s and asset_key is not null", (run_id,))
        (asset_events,) = cur.fetchone()
    con.close()
    assert asset_events >= 3
    assert not (production_home / "history").exists()
