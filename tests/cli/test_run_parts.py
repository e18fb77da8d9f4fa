"""`task pipeline` runs the parts of the graph that share no asset as concurrent runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import dagster as dg
import pytest
from lakehouse_cli.pipeline import execute_pipeline, format_summary
from lakehouse_cli.run_parts import run_parts


@dg.asset
def orders() -> None: ...


@dg.asset(deps=[orders])
def revenue() -> None: ...


@dg.asset_check(asset=revenue)
def revenue_is_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.multi_asset(specs=[dg.AssetSpec("members"), dg.AssetSpec("plans")])
def enrollment() -> Iterator[dg.MaterializeResult]:
    yield dg.MaterializeResult(asset_key="members")
    yield dg.MaterializeResult(asset_key="plans")


@dg.asset(deps=["plans"])
def premiums() -> None: ...


@dg.asset(kinds={"spark"})
def events() -> None: ...


def job_of(
    *assets: dg.AssetsDefinition, checks: list[dg.AssetChecksDefinition] | None = None
) -> dg.JobDefinition:
    defs = dg.Definitions(assets=list(assets), asset_checks=checks or [], jobs=[dg.define_asset_job("all")])
    return defs.resolve_job_def("all")


def selected(part_job: dg.JobDefinition) -> set[str]:
    layer = part_job.asset_layer
    checks = {check.name for node in layer.asset_graph.assets_defs for check in node.check_keys}
    return {key.to_user_string() for key in layer.selected_asset_keys} | checks


def test_parts_follow_dependencies_keep_a_multi_asset_whole_and_put_spark_first() -> None:
    parts = run_parts(job_of(orders, revenue, enrollment, premiums, events, checks=[revenue_is_positive]))
    assert [selected(part.job) for part in parts] == [
        {"events"},
        {"orders", "revenue", "revenue_is_positive"},
        {"members", "plans", "premiums"},  # premiums needs only plans; members comes with it
    ]
    assert [part.steps for part in parts] == [1, 3, 2]
    assert [part.spark_steps for part in parts] == [1, 0, 0]


def test_a_connected_graph_is_one_part_the_job_itself() -> None:
    job = job_of(orders, revenue)
    assert [part.job for part in run_parts(job)] == [job]


RENDEZVOUS: dict[str, threading.Barrier] = {}


@dg.asset
def left() -> dg.MaterializeResult:
    RENDEZVOUS["barrier"].wait()  # returns only while `right` waits too: the two runs overlap
    return dg.MaterializeResult(metadata={"dagster/row_count": 1})


@dg.asset
def right() -> dg.MaterializeResult:
    RENDEZVOUS["barrier"].wait()
    return dg.MaterializeResult(metadata={"dagster/row_count": 2})


@dg.asset(deps=[right])
def broken_after_right() -> None:
    raise RuntimeError("the second part fails")


def test_independent_parts_run_at_the_same_time_and_report_as_one_pipeline() -> None:
    RENDEZVOUS["barrier"] = threading.Barrier(2, timeout=60)
    lines: list[str] = []
    with dg.instance_for_test() as instance:
        summary = execute_pipeline(
            job_of(left, right, broken_after_right), instance, say=lines.append, concurrent_runs=2
        )
        runs = instance.get_runs()
    assert len(runs) == 2
    assert summary.run_id == ", ".join(sorted(summary.run_id.split(", "), key=summary.run_id.index))
    assert sorted(line.asset for line in summary.lines) == ["left", "right"]
    assert not summary.success  # one part's failure fails the pipeline; the other part still ran
    assert any("the second part fails" in failure for failure in summary.failures)
    assert sorted(line.split()[0] for line in lines if " start " in line) == ["[1/3]", "[2/3]", "[3/3]"]
    assert format_summary(summary).splitlines()[-1] == "2 assets materialized; FAILED"


def test_one_run_at_a_time_runs_the_parts_one_after_the_other() -> None:
    RENDEZVOUS["barrier"] = threading.Barrier(2, timeout=2)
    with dg.instance_for_test() as instance:
        summary = execute_pipeline(job_of(left, right), instance, concurrent_runs=1)
        assert len(instance.get_runs()) == 1
    assert not summary.success
    assert any("BrokenBarrierError" in failure for failure in summary.failures)


@pytest.mark.parametrize("concurrent_runs", [1, 2])
def test_a_failed_step_skips_its_own_part_only(concurrent_runs: int) -> None:
    RENDEZVOUS["barrier"] = threading.Barrier(1)
    with dg.instance_for_test() as instance:
        summary = execute_pipeline(
            job_of(orders, right, broken_after_right), instance, concurrent_runs=concurrent_runs
        )
    assert sorted(line.asset for line in summary.lines) == ["orders", "right"]
    assert [failure.split(":")[0] for failure in summary.failures] == ["broken_after_right"]
