"""An expectation check reads its dataset's counts by the dataset's identity in one update, and fails,
saying why, when the event log has no counts for it."""

from __future__ import annotations

from typing import Any

import dagster as dg
from lakehouse_domains.defs.runs import expectation_check
from lakehouse_resources.databricks.deployed import flow_results
from lakehouse_resources.platform.specs import Expectation

TABLE = "spark_catalog.member_enrollment.silver_demographics"
RULE = Expectation(
    name="member_id_format", condition="member_id RLIKE 'M[0-9]+'", action="warn", tolerance=0.0
)


def progress(update: str, passed: int, failed: int, **origin: Any) -> dict[str, Any]:
    quality = {
        "dropped_records": 0,
        "expectations": [{"name": RULE.name, "passed_records": passed, "failed_records": failed}],
    }
    return {
        "origin": {"update_id": update, **origin},
        "details": {"flow_progress": {"metrics": {"num_output_rows": passed}, "data_quality": quality}},
    }


def test_counts_are_matched_by_the_dataset_s_full_name_in_that_update() -> None:
    events = [
        progress("u1", 8, 1, dataset_name=f"`{TABLE.upper()}`", flow_name="demographics"),
        progress("u1", 2, 0, dataset_name=TABLE, flow_name="demographics_backfill"),  # a second flow adds up
        # a flow named like the table but with no dataset, and another update: neither counts
        progress("u1", 100, 100, flow_name=TABLE),
        progress("u0", 100, 100, dataset_name=TABLE),
    ]
    (result,) = flow_results(events, "u1").values()
    assert result.table == TABLE
    assert result.expectations == {RULE.name: (10, 1)}
    check = expectation_check(dg.AssetKey(["member", "demographics"]), RULE, result, TABLE, "u1")
    assert not check.passed  # one failed row over a tolerance of 0
    assert check.metadata["failed_records"].value == 1
    assert "dropped_records" not in check.metadata  # the table's figure, not this rule's
    assert check.severity == dg.AssetCheckSeverity.WARN


def test_missing_counts_fail_the_check_and_say_why() -> None:
    events = [progress("u1", 5, 0, flow_name=TABLE)]  # counts nobody can tie to the dataset
    assert flow_results(events, "u1") == {}
    check = expectation_check(dg.AssetKey(["member", "demographics"]), RULE, None, TABLE, "u1")
    assert not check.passed
    assert check.description
    assert "has no counts for expectation member_id_format" in check.description
    assert TABLE in check.description
