"""`task pipeline` end to end: every location's assets in one ordered run on a tmp warehouse."""

import subprocess
import sys
from pathlib import Path

import pytest
from lakehouse_cli.home import prepare_dagster_home
from lakehouse_cli.main import main
from lakehouse_resources.settings import LakehouseSettings
from testsupport import query

pytestmark = pytest.mark.slow


def test_pipeline_materializes_everything_and_marts_add_up(
    local_settings: LakehouseSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pipeline"]) == 0
    out = capsys.readouterr().out
    assert "success" in out.splitlines()[-1]
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
    local_settings: LakehouseSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = local_settings.data_dir / "raw_orders.csv"
    orders.write_text(orders.read_text() + "100,1,not-a-date,placed\n")
    assert main(["pipeline"]) == 1
    out = capsys.readouterr().out
    assert "FAILED jaffle_shop_files" in out
    assert f"{orders}:101" in out
    assert "raw/raw_orders" in out


def test_two_runs_started_together_queue_on_the_warehouse_pool(local_settings: LakehouseSettings) -> None:
    home = prepare_dagster_home(local_settings)
    script = Path(__file__).with_name("run_pipeline_once.py")
    procs = [
        subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output[-3000:]
    assert any("Step blocked by limit for pool duckdb_warehouse" in output for output in outputs)
    assert (home / "dagster.yaml").read_text().count("default_limit: 1") == 1


def test_a_subset_runs_only_the_tests_of_what_it_builds(local_settings: LakehouseSettings) -> None:
    """customers and its upstream alone, in an empty warehouse: the orders -> customers test
    (an orders check) is not run against the missing orders table."""
    import dagster as dg
    from lakehouse_cli.home import local_instance
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
