"""What `task pipeline` reports, on small runs: step lines, whole errors, blocking checks."""

from __future__ import annotations

import dagster as dg
from lakehouse_cli.pipeline import execute_pipeline, format_summary

DBT_LIKE_ERROR = "The dbt CLI process with command\n\n`dbt build`\n\nfailed with exit code `1`.\nCatalog Error: Table with name fact_virtual does not exist"


@dg.asset
def landed() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 1234})


@dg.asset(deps=[landed])
def broken() -> None:
    raise RuntimeError(DBT_LIKE_ERROR)


@dg.asset_check(asset=landed, blocking=True, description="never passes")
def landed_is_not_empty() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False)


def _job(
    *assets: dg.AssetsDefinition, checks: list[dg.AssetChecksDefinition] | None = None
) -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=list(assets), asset_checks=checks or [], jobs=[dg.define_asset_job("under_test")]
    )
    return defs.resolve_job_def("under_test")


def test_each_step_says_when_it_starts_and_ends_and_a_failure_is_shown_whole() -> None:
    lines: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance:
        summary = execute_pipeline(_job(landed, broken), instance, say=lines.append)
    assert lines[0] == "[1/2] start   landed"
    assert lines[1].startswith("[1/2] done    landed  ")
    assert lines[1].endswith("landed 1,234 rows")
    assert lines[2] == "[2/2] start   broken"
    assert lines[3].startswith("[2/2] FAILED  broken")
    assert not summary.success
    report = format_summary(summary)
    assert f"FAILED broken: RuntimeError: {DBT_LIKE_ERROR}" in report
    assert report.splitlines()[-1] == "1 assets materialized; FAILED"


def test_a_failed_blocking_check_fails_the_pipeline_and_is_named() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        summary = execute_pipeline(_job(landed, checks=[landed_is_not_empty]), instance)
    assert not summary.success
    assert summary.blocking_checks_failed == ["landed:landed_is_not_empty"]
    assert "check failed (blocking): landed:landed_is_not_empty" in format_summary(summary)


@dg.asset_check(asset=landed, description="a warn-level rule catching planted bad rows")
def landed_has_no_planted_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"passed_records": 1230, "failed_records": 4},
    )


def test_warnings_are_reported_as_warnings_apart_from_failures() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        summary = execute_pipeline(_job(landed, checks=[landed_has_no_planted_rows]), instance)
    assert summary.success
    assert summary.checks_failed == []
    report = format_summary(summary).splitlines()
    assert "1 warnings (checks of WARN severity; they do not block):" in report
    assert "  warning: landed:landed_has_no_planted_rows (4 of 1,234 rows)" in report
    assert not any(line.startswith("check failed") for line in report)
    assert report[-1] == "1 assets materialized; success with 1 warnings"
