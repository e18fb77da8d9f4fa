"""A real PostgreSQL is the source of the `raw_pg` Sling replication into a DuckDB warehouse."""

import csv
from pathlib import Path

import dagster as dg
import pytest
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_resources.paths import repo_root
from lakehouse_resources.settings import LakehouseSettings, get_settings
from psycopg2.extras import execute_values
from testsupport import query

pytestmark = pytest.mark.postgres

INIT_SQL = repo_root() / "compose" / "postgres" / "init" / "01_shop.sql"
PG_KEYS = {"raw_pg/customers", "raw_pg/orders", "raw_pg/payments"}


def seed_shop(server, database: str, data_dir: Path) -> None:
    """The compose database's own init script, filled with the jaffle shop seed rows."""
    con = server.connect(database)
    with con, con.cursor() as cur:
        cur.execute(INIT_SQL.read_text())
        for table, source, columns in (
            ("customers", "raw_customers.csv", "id, first_name, last_name"),
            ("orders", "raw_orders.csv", "id, user_id, order_date, status"),
            ("payments", "raw_payments.csv", "id, order_id, payment_method, amount"),
        ):
            with (data_dir / source).open() as f:
                rows = [tuple(row.values()) for row in csv.DictReader(f)]
            execute_values(cur, f"insert into public.{table} ({columns}) values %s", rows)
    con.close()


def execute(server, database: str, sql: str) -> None:
    con = server.connect(database)
    with con, con.cursor() as cur:
        cur.execute(sql)
    con.close()


def replicate(settings: LakehouseSettings) -> dg.ExecuteInProcessResult:
    defs = build_ingestion_defs(settings)
    return dg.materialize(
        [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
        resources=dict(defs.resources or {}),
        selection=dg.AssetSelection.groups("shop_postgres_raw"),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def moved_rows(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    """Rows Sling wrote per stream in this run (not the table's total)."""
    return {
        event.materialization.asset_key.to_user_string(): int(
            str(event.materialization.metadata["row_count"].value)
        )
        for event in result.get_asset_materialization_events()
    }


@pytest.fixture
def pg_settings(
    local_settings: LakehouseSettings, postgres_server, postgres_database: str, clean_env: pytest.MonkeyPatch
) -> LakehouseSettings:
    seed_shop(postgres_server, postgres_database, local_settings.data_dir)
    clean_env.setenv("LAKEHOUSE_POSTGRES_URL", postgres_server.url(postgres_database))
    return get_settings()


def test_without_a_postgres_url_the_postgres_assets_are_not_loaded(local_settings: LakehouseSettings) -> None:
    keys = {
        k.to_user_string()
        for k in build_ingestion_defs(local_settings).resolve_asset_graph().get_all_asset_keys()
    }
    assert not keys & PG_KEYS
    assert "raw/raw_orders" in keys


def test_postgres_rows_land_and_a_second_run_loads_only_the_change(
    pg_settings: LakehouseSettings, postgres_server, postgres_database: str
) -> None:
    first = replicate(pg_settings)
    assert first.success
    assert moved_rows(first) == {"raw_pg/customers": 100, "raw_pg/orders": 99, "raw_pg/payments": 122}
    assert query(pg_settings, "select count(*), count(distinct id) from raw_pg.orders") == [(99, 99)]
    assert query(pg_settings, "select sum(amount) from raw_pg.payments") == [(173500,)]

    # Two new orders and three changed ones; updated_at moves forward on every change.
    execute(
        postgres_server,
        postgres_database,
        """
        insert into public.orders (id, user_id, order_date, status, updated_at) values
            (100, 1, '2018-04-10', 'placed', clock_timestamp() + interval '1 minute'),
            (101, 2, '2018-04-10', 'placed', clock_timestamp() + interval '1 minute');
        update public.orders set status = 'returned', updated_at = clock_timestamp() + interval '1 minute'
            where id in (1, 2, 3);
        insert into public.payments values (200, 100, 'coupon', 500);
        """,
    )

    second = replicate(pg_settings)
    assert second.success
    moved = moved_rows(second)
    assert moved["raw_pg/orders"] == 5  # only the change, not the 99 rows already there
    assert moved["raw_pg/payments"] == 123  # full refresh: the whole table again
    assert query(pg_settings, "select count(*), count(distinct id) from raw_pg.orders") == [(101, 101)]
    assert query(
        pg_settings, "select id, status from raw_pg.orders where id in (1, 2, 3, 100) order by id"
    ) == [
        (1, "returned"),
        (2, "returned"),
        (3, "returned"),
        (100, "placed"),
    ]
    assert query(pg_settings, "select count(*), count(distinct id) from raw_pg.payments") == [(123, 123)]
    assert query(pg_settings, "select count(*), count(distinct id) from raw_pg.customers") == [(100, 100)]

    # A run with nothing changed moves no order and duplicates nothing.
    third = replicate(pg_settings)
    assert third.success
    assert moved_rows(third)["raw_pg/orders"] == 0
    assert query(pg_settings, "select count(*), count(distinct id) from raw_pg.orders") == [(101, 101)]
