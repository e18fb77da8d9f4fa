"""Sling's file replication (the production path for files) really runs: CSV to DuckDB, offline."""

import dagster as dg
import duckdb
from lakehouse_ingestion.defs.build import sling_resource
from lakehouse_ingestion.defs.jaffle_shop_files.sling_files import build_sling_files
from lakehouse_resources.asset_keys import JAFFLE_SHOP_RAW
from lakehouse_resources.settings import LakehouseSettings
from testsupport import query


def replicate(
    settings: LakehouseSettings, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    # The same assets as outside `local`, with the settings' local warehouse as Sling's target.
    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    return dg.materialize(
        [build_sling_files(settings)],
        resources={"sling": sling_resource(settings)},
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_sling_replicates_the_jaffle_shop_files_into_duckdb(local_settings: LakehouseSettings) -> None:
    result = replicate(local_settings)
    assert result.success
    counts = {
        event.asset_key: event.materialization.metadata["dagster/row_count"].value
        for event in result.get_asset_materialization_events()
    }
    assert counts == dict(zip(JAFFLE_SHOP_RAW, (100, 99, 122), strict=True))
    assert query(
        local_settings, "select count(*), count(distinct id), sum(amount) from raw.raw_payments"
    ) == [(122, 122, 173500)]


def test_a_duplicate_key_stops_sling_before_it_replaces_anything(local_settings: LakehouseSettings) -> None:
    # The previous table, written directly (one Sling run per module is enough, and Sling has
    # hung on this busy machine: the contract check must stop it before it starts anyway).
    local_settings.state_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(local_settings.duckdb_path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.raw_orders as select * from range(99) t(id)")
    orders = local_settings.data_dir / "raw_orders.csv"
    orders.write_bytes(orders.read_bytes() + b"3,1,2018-04-09,placed\r\n")
    result = replicate(local_settings)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None
    assert f"{orders}:101: duplicate key id=3: lines 4 and 101" in (failure.description or "")
    assert query(local_settings, "select count(*) from raw.raw_orders") == [(99,)]


def test_a_header_only_file_stops_sling_naming_the_drop(local_settings: LakehouseSettings) -> None:
    # The remote table's size is what its last materialization recorded.
    instance = dg.DagsterInstance.ephemeral()
    for key, rows in zip(JAFFLE_SHOP_RAW, (100, 99, 122), strict=True):
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=key, metadata={"dagster/row_count": rows})
        )
    orders = local_settings.data_dir / "raw_orders.csv"
    orders.write_bytes(orders.read_bytes().splitlines(keepends=True)[0])
    result = replicate(local_settings, instance)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None
    assert "0 rows would replace the 99 rows of raw.raw_orders" in (failure.description or "")
