"""Sling and dlt really run: rows land in a DuckDB file under tmp_path."""

import dagster as dg
import pytest
from lakehouse_ingestion.defs.build import build_ingestion_defs
from lakehouse_resources.asset_keys import JAFFLE_SHOP_RAW, RAW_FACT_VIRTUAL
from lakehouse_resources.settings import LakehouseSettings
from testsupport import query

# The three files are one asset: they always load together.
JAFFLE_SHOP_FILES = dg.AssetSelection.assets(*JAFFLE_SHOP_RAW)


def materialize(
    settings: LakehouseSettings,
    selection: str | dg.AssetSelection | None = None,
    run_config: dg.RunConfig | None = None,
) -> dg.ExecuteInProcessResult:
    defs = build_ingestion_defs(settings)
    return dg.materialize(
        [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
        resources=dict(defs.resources or {}),
        selection=selection,
        run_config=run_config,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def failure_description(result: dg.ExecuteInProcessResult) -> str:
    failure = result.get_step_failure_events()[0].step_failure_data
    assert failure.user_failure_data is not None, failure.error
    return failure.user_failure_data.description or ""


def counts(settings: LakehouseSettings) -> dict[str, int]:
    return {
        table: query(settings, f"select count(*) from raw.{table}")[0][0]
        for table in ("raw_customers", "raw_orders", "raw_payments")
    }


def test_all_ingestion_assets_land_rows(local_settings: LakehouseSettings) -> None:
    result = materialize(local_settings)
    assert result.success
    counts = {
        event.materialization.asset_key.to_user_string(): event.materialization.metadata[
            "dagster/row_count"
        ].value
        for event in result.get_asset_materialization_events()
    }
    # One name per table, the same in the catalog and on the materialization (dbt's form).
    graph = build_ingestion_defs(local_settings).resolve_asset_graph()
    for event in result.get_asset_materialization_events():
        key = event.materialization.asset_key
        name = graph.get(key).metadata["dagster/table_name"]
        assert name == "warehouse." + ".".join(key.path)
        on_event = event.materialization.metadata.get("dagster/table_name")
        assert on_event is None or on_event.value == name
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
    assert materialize(local_settings, selection=JAFFLE_SHOP_FILES).success
    before = query(local_settings, "select count(*), sum(amount) from raw.raw_payments")

    csv_path = local_settings.data_dir / "raw_payments.csv"
    lines = csv_path.read_text().splitlines()
    lines[7] = bad_line  # file line 8
    lines.append("999,1,coupon,100")
    csv_path.write_text("\n".join(lines) + "\n")

    result = materialize(local_settings, selection=JAFFLE_SHOP_FILES)
    assert not result.success
    description = failure_description(result)
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
    assert materialize(local_settings, selection=JAFFLE_SHOP_FILES).success
    csv_path = local_settings.data_dir / "raw_payments.csv"
    with csv_path.open("a", newline="") as fh:  # the seeds end lines with CRLF; keep the prefix's bytes
        fh.write("123,99,coupon,100\r\n124,99,gift_card,200\r\n")

    result = materialize(local_settings, selection=JAFFLE_SHOP_FILES)
    assert result.success
    events = {e.asset_key: e.materialization for e in result.get_asset_materialization_events()}
    metadata = events[dg.AssetKey(["raw", "raw_payments"])].metadata
    assert (metadata["dagster/row_count"].value, metadata["rows_loaded"].value) == (124, 2)
    assert metadata["incremental"].value is True
    assert query(local_settings, "select count(*), sum(amount) from raw.raw_payments") == [(124, 173800)]


def test_a_header_only_file_is_refused_and_keeps_the_table(local_settings: LakehouseSettings) -> None:
    assert materialize(local_settings, selection=JAFFLE_SHOP_FILES).success
    orders = local_settings.data_dir / "raw_orders.csv"
    orders.write_text(orders.read_text().splitlines()[0] + "\n")

    result = materialize(local_settings, selection=JAFFLE_SHOP_FILES)
    assert not result.success
    description = failure_description(result)
    assert "raw_orders.csv" in description
    assert "0 rows would replace the 99 rows of raw.raw_orders" in description
    assert counts(local_settings) == {"raw_customers": 100, "raw_orders": 99, "raw_payments": 122}

    # Meant: the run config says so.
    config = dg.RunConfig(ops={"jaffle_shop_files": {"config": {"allow_shrink": True}}})
    assert materialize(local_settings, selection=JAFFLE_SHOP_FILES, run_config=config).success
    assert counts(local_settings)["raw_orders"] == 0


def test_a_shrink_beyond_the_setting_is_refused(local_settings: LakehouseSettings) -> None:
    assert materialize(local_settings, selection=JAFFLE_SHOP_FILES).success
    customers = local_settings.data_dir / "raw_customers.csv"
    lines = customers.read_text().splitlines()
    customers.write_text("\n".join(lines[:60]) + "\n")  # 59 of 100 rows: a 41% drop
    strict = local_settings.model_copy(update={"load_max_shrink": 0.25})
    result = materialize(strict, selection=JAFFLE_SHOP_FILES)
    assert not result.success
    assert "a drop of 41% (more than 25% is refused" in failure_description(result)
    assert counts(local_settings)["raw_customers"] == 100
    # The default (50%) lets it through.
    assert materialize(local_settings, selection=JAFFLE_SHOP_FILES).success
    assert counts(local_settings)["raw_customers"] == 59


def test_duplicate_keys_are_refused_naming_both_lines(local_settings: LakehouseSettings) -> None:
    assert materialize(local_settings, selection=JAFFLE_SHOP_FILES).success
    payments = local_settings.data_dir / "raw_payments.csv"
    lines = payments.read_text().splitlines()
    lines[40] = "5" + lines[40][lines[40].index(",") :]  # file line 41 reuses id 5 (line 6)
    payments.write_text("\r\n".join(lines) + "\r\n")

    result = materialize(local_settings, selection=JAFFLE_SHOP_FILES)
    assert not result.success
    assert f"{payments}:41: duplicate key id=5: lines 6 and 41" in failure_description(result)
    assert query(local_settings, "select count(*), count(distinct id) from raw.raw_payments") == [(122, 122)]


def test_the_three_files_load_all_or_none(local_settings: LakehouseSettings) -> None:
    assert materialize(local_settings, selection=JAFFLE_SHOP_FILES).success
    customers = local_settings.data_dir / "raw_customers.csv"
    customers.write_bytes(customers.read_bytes() + b"101,Ada,L.\r\n")
    payments = local_settings.data_dir / "raw_payments.csv"
    payments.write_bytes(payments.read_bytes() + b"123,99,coupon,lots\r\n")

    result = materialize(local_settings, selection=JAFFLE_SHOP_FILES)
    assert not result.success
    assert "raw_payments.csv:124: column amount" in failure_description(result)
    assert result.get_asset_materialization_events() == []
    # The valid customers file did not land without its payments.
    assert counts(local_settings) == {"raw_customers": 100, "raw_orders": 99, "raw_payments": 122}


def test_the_files_are_one_asset_that_cannot_be_split(local_settings: LakehouseSettings) -> None:
    defs = build_ingestion_defs(local_settings)
    files = defs.resolve_assets_def(JAFFLE_SHOP_RAW[0])
    assert set(files.keys) == set(JAFFLE_SHOP_RAW)
    assert not files.can_subset


def test_every_ingestion_asset_says_how_to_run_the_platform_from_the_ui(
    local_settings: LakehouseSettings,
) -> None:
    graph = build_ingestion_defs(local_settings).resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        description = graph.get(key).description or ""
        # where the UI offers it (Deployment > ingestion has no such button)
        assert 'filter `code_location:"ingestion"`, then "Materialize all"' in description, key
        assert "automation sensors of the transformation, downstream and domains" in description, key


def test_source_files_show_no_path_of_the_machine_that_loaded_them(local_settings: LakehouseSettings) -> None:
    from lakehouse_ingestion.defs.jaffle_shop_files.assets import readable_path
    from lakehouse_resources.settings import get_settings

    # The tests' copy of the CSVs lies outside the checkout: the file's name alone.
    graph = build_ingestion_defs(local_settings).resolve_asset_graph()
    shown = {str(graph.get(key).metadata["source_file"]) for key in JAFFLE_SHOP_RAW}
    assert shown == {"raw_customers.csv", "raw_orders.csv", "raw_payments.csv"}
    # The checkout's own data folder: relative to the checkout, the same on every machine.
    root = get_settings().root
    assert readable_path(root / "data" / "raw_orders.csv", root) == "data/raw_orders.csv"


def test_loading_the_definitions_leaves_dlts_working_folder_alone(local_settings: LakehouseSettings) -> None:
    """Making a dlt pipeline creates its working folder, or wipes one that holds no state yet: a
    Definitions load (a code server's, a second `lakehouse pipeline`'s) beside another process's first
    load deleted that load's files, and two loads at once failed with FileExistsError."""
    working = local_settings.warehouse_state_dir / "dlt"
    defs = build_ingestion_defs(local_settings)
    assert not working.exists()
    spec = next(iter(defs.resolve_assets_def(RAW_FACT_VIRTUAL).specs))
    assert spec.kinds == {"dlt", "duckdb"}
    assert spec.metadata["dagster/storage_kind"] == "duckdb"
    in_flight = working / "kaizen_wars" / "normalize" / "a-load-in-progress"
    in_flight.parent.mkdir(parents=True)
    in_flight.write_text("extracted rows not yet loaded")
    build_ingestion_defs(local_settings)
    assert in_flight.read_text() == "extracted rows not yet loaded"
