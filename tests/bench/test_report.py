"""The benchmark table: the whole platform's row is derived from the two paths at one scale."""

from lakehouse_cli.bench.report import against_spark_job, against_stock, render, whole_platform
from lakehouse_cli.bench.timing import summarize


def test_the_whole_platform_weighs_the_fixed_cost_against_all_the_work() -> None:
    results = {
        "pipeline_1M": summarize({"direct": [7.0, 7.0, 7.0], "dagster": [12.0, 12.0, 12.0]}, "direct"),
        "medallion_1M": summarize({"direct": [380.0], "dagster": [345.0]}, "direct"),
        "medallion_10M": summarize({"direct": [1.0], "dagster": [1.0]}, "direct"),
    }

    derived = whole_platform(results)

    assert list(derived) == ["whole_1M"]  # no jaffle shop path at 10M: no whole row
    whole = derived["whole_1M"]
    assert whole["medians"] == {"direct": 387.0, "dagster": 357.0}
    assert round(whole["ratios"]["dagster"], 3) == round(357 / 387, 3)
    assert "| whole_1M | dagster | 357.000 | direct | 0.92x | 1 |" in render(
        {**results, "machine": None} | {"machine": _machine()}
    )


def _machine() -> dict[str, object]:
    return {"cores": 2, "memory_gib": 1, "cpu": "x", "python": "3", "versions": {}, "date": "d"}


def test_our_dbt_core_load_is_reported_against_stock_dbt_assets() -> None:
    run = summarize(
        {"imports": [1.0, 1.0], "load": [4.0, 4.0], "stock_dbt_assets": [5.0, 5.0]},
        "imports",
        cpu_times={"imports": [1.0, 1.0], "load": [3.0, 3.0], "stock_dbt_assets": [6.0, 6.0]},
        cpu_medians={"imports": 1.0, "load": 3.0, "stock_dbt_assets": 6.0},
    )
    results = {"defs_dbt_core_5000_models": run, "defs_ingestion": summarize({"imports": [1.0]}, "imports")}

    derived = against_stock(results)

    assert sorted(derived) == ["defs_dbt_core_5000_models_vs_stock", "defs_dbt_core_5000_models_vs_stock_cpu"]
    assert derived["defs_dbt_core_5000_models_vs_stock"]["ratios"]["load"] == 0.8
    assert derived["defs_dbt_core_5000_models_vs_stock_cpu"]["ratios"]["load"] == 0.5
    table = render({**results, "machine": _machine()})
    assert "| defs_dbt_core_5000_models_vs_stock | load | 4.000 | stock_dbt_assets | 0.80x | 2 |" in table
    assert "| defs_dbt_core_5000_models | stock_dbt_assets | 5.000 | imports | 5.00x | 2 |" in table


def test_the_medallion_cases_are_reported_against_the_hand_written_spark_job() -> None:
    run = summarize({"direct": [300.0], "dagster": [330.0], "spark_job": [150.0], "duckdb": [30.0]}, "direct")
    results = {"medallion_1M": run, "pipeline_1M": summarize({"direct": [1.0], "dagster": [1.0]}, "direct")}

    derived = against_spark_job(results)

    assert list(derived) == ["medallion_1M_vs_spark_job"]
    assert derived["medallion_1M_vs_spark_job"]["ratios"] == {
        "direct": 2.0,
        "dagster": 2.2,
        "spark_job": 1.0,
        "duckdb": 0.2,
    }
    table = render({**results, "machine": _machine()})
    assert "| medallion_1M_vs_spark_job | dagster | 330.000 | spark_job | 2.20x | 1 |" in table
    assert "| medallion_1M | spark_job | 150.000 | direct | 0.50x | 1 |" in table
