"""`task pipeline` end to end: every location's assets in one ordered run on a tmp warehouse."""

import re
from pathlib import Path

import pytest
from cli_support import require_cli
from lakehouse_cli.home import local_instance, prepare_dagster_home
from lakehouse_cli.main import main
from lakehouse_resources.settings import LakehouseSettings, get_settings
from runtime_support import (
    JAFFLE_SHOP_CHAIN,
    hold_the_pool,
    lakehouse,
    release_the_pool,
    runs_waiting,
    wait_for,
)
from testsupport import query

pytestmark = pytest.mark.slow


@pytest.mark.databricks_cli
def test_pipeline_materializes_everything_and_marts_add_up(
    local_settings: LakehouseSettings, clean_env: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    require_cli()
    # A warehouse file of another name than warehouse.duckdb: dbt names its relations after the
    # file, and every asset (the notebooks on the stand-in's Spark included) must follow it.
    clean_env.setenv("LAKEHOUSE_DUCKDB_PATH", str(local_settings.state_dir / "lake_other.duckdb"))
    local_settings = get_settings()
    assert main(["pipeline"]) == 0
    out = capfd.readouterr().out
    lines = out.splitlines()
    assert "success" in lines[-2]
    assert "34 assets materialized" in lines[-2]
    # the Spark notebooks read the dbt mart and wrote the tiers table DuckDB then reads
    assert query(local_settings, "select count(*) from analytics_jaffle_shop.gold_customer_tiers") == [(100,)]
    # the bundle reached the stand-in through the real Databricks CLI
    assert any(line.startswith("bundle deploy: databricks CLI") for line in lines), out[-3000:]
    # one line per step as it starts and ends, with a progress count; not dbt's own log
    assert any(re.match(r"\[\s*1/\d+\] start ", line) for line in lines)
    assert any(" done " in line and "jaffle_shop/customers 100 rows" in line for line in lines)
    assert "Running with dbt=" not in out
    # the event log is kept in the file the output names
    log = Path(lines[-1].removeprefix("event log: "))
    assert "STEP_SUCCESS" in log.read_text()
    assert "Running with dbt=" in log.read_text()
    for asset in (
        "raw/raw_payments",
        "jaffle_shop/customers",
        "jaffle_shop/orders",
        "analytics/customer_segments",
    ):
        assert asset in out
    # customers: one row per distinct raw customer
    assert query(local_settings, "select count(*) from marts.customers") == query(
        local_settings, "select count(distinct id) from raw.raw_customers"
    )
    # each order's amount is the sum of its payments, converted from cents
    mismatches = query(
        local_settings,
        """
        select o.order_id, o.amount, coalesce(sum(p.amount), 0) / 100
        from marts.orders o left join raw.raw_payments p on p.order_id = o.order_id
        group by o.order_id, o.amount
        having o.amount <> coalesce(sum(p.amount), 0) / 100
        """,
    )
    assert mismatches == []
    # payment-method columns add up to the total
    assert query(
        local_settings,
        "select count(*) from marts.orders where credit_card_amount + coupon_amount + bank_transfer_amount"
        " + gift_card_amount <> amount",
    ) == [(0,)]
    # lifetime value and order counts reconcile with the raw tables
    assert query(
        local_settings, "select sum(customer_lifetime_value), sum(number_of_orders) from marts.customers"
    ) == [(173500 / 100, 99)]
    assert query(local_settings, "select sum(customers) from analytics.customer_segments") == [(100,)]


def test_pipeline_failure_exits_non_zero_and_names_the_asset(
    local_settings: LakehouseSettings, capfd: pytest.CaptureFixture[str]
) -> None:
    orders = local_settings.data_dir / "raw_orders.csv"
    orders.write_text(orders.read_text() + "100,1,not-a-date,placed\n")
    # The failing load alone: the rest of the platform (Spark, dbt Cloud) would run beside it for
    # minutes and change nothing about how the failure is reported.
    assert main(["pipeline", "--select", 'key:"raw/raw_orders"']) == 1
    out = capfd.readouterr().out
    assert "FAILED jaffle_shop_files" in out
    assert f"{orders}:101" in out
    assert "raw/raw_orders" in out


def test_two_runs_at_once_queue_on_the_warehouse_pool(
    local_settings: LakehouseSettings, tmp_path: Path
) -> None:
    """Both runs are made to wait for the pool at the same time (a test holds its only slot until
    both queue), so they certainly overlap; then both finish, one writer at a time."""
    home = prepare_dagster_home(local_settings)
    logs = [tmp_path / f"run{i}.log" for i in range(2)]
    with local_instance(local_settings) as instance:
        holder = hold_the_pool(instance)
        try:
            procs = [lakehouse("pipeline", "--select", JAFFLE_SHOP_CHAIN, log=log) for log in logs]
            # A command that ends before its run queues (it failed to start) ends the wait too.
            wait_for(
                lambda: len(runs_waiting(instance)) == 2 or any(p.poll() is not None for p in procs),
                "both runs to queue for the pool",
            )
            ended = [log.read_text()[-3000:] for proc, log in zip(procs, logs, strict=True) if proc.poll()]
            assert not ended, f"a run ended before both queued: {ended}"
        finally:
            release_the_pool(instance, holder)
        codes = [proc.wait(timeout=600) for proc in procs]
    for code, log in zip(codes, logs, strict=True):
        assert code == 0, log.read_text()[-3000:]
    assert (home / "dagster.yaml").read_text().count("default_limit: 1") == 1


def test_a_subset_runs_only_the_tests_of_what_it_builds(local_settings: LakehouseSettings) -> None:
    """customers and its upstream alone, in an empty warehouse: the orders -> customers test
    (an orders check) is not run against the missing orders table."""
    import dagster as dg
    from lakehouse_cli.pipeline import run_pipeline
    from lakehouse_resources.asset_keys import CUSTOMERS, ORDERS

    with local_instance(local_settings) as instance:
        summary = run_pipeline(
            local_settings, instance, selection=dg.AssetSelection.assets(CUSTOMERS).upstream()
        )
    assert summary.success, summary.failures
    built = {line.asset for line in summary.lines}
    assert CUSTOMERS.to_user_string() in built
    assert ORDERS.to_user_string() not in built
    assert query(local_settings, "select count(*) from marts.customers") == [(100,)]
