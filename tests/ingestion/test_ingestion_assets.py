"""Sling and dlt really run: rows land in a DuckDB file under tmp_path."""

import dagster as dg
import pytest
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_resources.asset_keys import RAW_FACT_VIRTUAL, RAW_PAYMENTS
from lakehouse_resources.settings import LakehouseSettings
from testsupport import query


def materialize(settings: LakehouseSettings, selection: str | None = None) -> dg.ExecuteInProcessResult:
    defs = build_ingestion_defs(settings)
    return dg.materialize(
        [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
        resources=dict(defs.resources or {}),
        selection=selection,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_all_ingestion_assets_land_rows(local_settings: LakehouseSettings) -> None:
    result = materialize(local_settings)
    assert result.success
    counts = {
        event.materialization.asset_key.to_user_string(): event.materialization.metadata[
            "dagster/row_count"
        ].value
        for event in result.get_asset_materialization_events()
    }
    assert counts == {
        "raw/raw_customers": 100,
        "raw/raw_orders": 99,
        "raw/raw_payments": 122,
        "raw/fact_virtual": 3000,
    }
    assert query(
        local_settings, "select count(*), count(distinct id), sum(amount) from raw.raw_payments"
    ) == [(122, 122, 173500)]
    assert query(
        local_settings, "select count(distinct event_id), min(quantity) >= 1 from raw.fact_virtual"
    ) == [(3000, True)]
    types = dict(
        query(
            local_settings,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'raw_payments'",
        )
    )
    assert types["amount"] == "BIGINT"


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ("7,6,credit_card,12x", "column amount: '12x' is not a valid BIGINT"),
        ("7,6,credit_card", "expected 4 columns"),
    ],
)
def test_malformed_csv_fails_naming_the_file_and_keeps_the_previous_table(
    local_settings: LakehouseSettings, bad_line: str, expected: str
) -> None:
    assert materialize(local_settings, selection=RAW_PAYMENTS.to_user_string()).success
    before = query(local_settings, "select count(*), sum(amount) from raw.raw_payments")

    csv_path = local_settings.data_dir / "raw_payments.csv"
    lines = csv_path.read_text().splitlines()
    lines[7] = bad_line  # file line 8
    lines.append("999,1,coupon,100")
    csv_path.write_text("\n".join(lines) + "\n")

    result = materialize(local_settings, selection=RAW_PAYMENTS.to_user_string())
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data
    assert failure.user_failure_data is not None
    description = failure.user_failure_data.description or ""
    assert f"{csv_path}:8" in description
    assert expected in description
    assert query(local_settings, "select count(*), sum(amount) from raw.raw_payments") == before


def test_dlt_rejects_a_malformed_value_and_keeps_the_table(local_settings: LakehouseSettings) -> None:
    assert materialize(local_settings, selection=RAW_FACT_VIRTUAL.to_user_string()).success
    csv_path = local_settings.data_dir / "raw_fact_virtual.csv"
    csv_path.write_text(csv_path.read_text() + "3001,p00001,2026-10-01 00:00:00,loot_box,two,250,pc,GR\n")

    result = materialize(local_settings, selection=RAW_FACT_VIRTUAL.to_user_string())
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    assert any("raw_fact_virtual.csv" in m and "two" in m for m in messages), messages
    assert query(local_settings, "select count(*) from raw.fact_virtual") == [(3000,)]


def test_appended_payments_are_inserted_without_a_full_reload(local_settings: LakehouseSettings) -> None:
    assert materialize(local_settings, selection=RAW_PAYMENTS.to_user_string()).success
    csv_path = local_settings.data_dir / "raw_payments.csv"
    with csv_path.open("a", newline="") as fh:  # the seeds end lines with CRLF; keep the prefix's bytes
        fh.write("123,99,coupon,100\r\n124,99,gift_card,200\r\n")

    result = materialize(local_settings, selection=RAW_PAYMENTS.to_user_string())
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert (metadata["dagster/row_count"].value, metadata["rows_loaded"].value) == (124, 2)
    assert metadata["incremental"].value is True
    assert query(local_settings, "select count(*), sum(amount) from raw.raw_payments") == [(124, 173800)]
