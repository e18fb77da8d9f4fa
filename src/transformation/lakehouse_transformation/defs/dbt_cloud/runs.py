"""Waiting for a dbt Cloud run without leaving it behind, and failing with a link and dbt's error.

The stock client raises on its poll timeout but leaves the dbt Cloud run going, and its failure
carries the run page only inside a JSON blob. Here a run that outlives the timeout, or that can no
longer be followed, is cancelled; every failure says which of the two happened, names the run,
links it, and carries dbt's own error (from run_results.json, else the run steps' logs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster_dbt.cloud_v2.cli_invocation import DbtCloudCliInvocation
from dagster_dbt.cloud_v2.run_handler import DbtCloudJobRunHandler
from dagster_dbt.cloud_v2.types import DbtCloudJobRunStatusType, DbtCloudRun
from pydantic import Field

from lakehouse_transformation.defs.dbt_cloud.client import DbtCloudApiError

DEFAULT_TIMEOUT_SECONDS = 30 * 60
FAILED = {DbtCloudJobRunStatusType.ERROR, DbtCloudJobRunStatusType.CANCELLED}
_FAILED_NODE_STATUSES = {"error", "fail", "runtime error"}
_MAX_ERRORS = 5


class DbtCloudRunConfig(dg.Config):
    timeout_seconds: float = Field(
        DEFAULT_TIMEOUT_SECONDS, description="Cancel the dbt Cloud run and fail if it takes longer."
    )


def _run_url(handler: DbtCloudJobRunHandler) -> str | None:
    with contextlib.suppress(Exception):  # the link is a courtesy; the API may be what failed
        return DbtCloudRun.from_run_details(handler.client.get_run_details(handler.run_id)).url
    return None


def _link_metadata(handler: DbtCloudJobRunHandler, url: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"dbt_cloud_run_id": handler.run_id}
    if url:
        metadata["run_url"] = dg.MetadataValue.url(url)
    return metadata


def wait_or_cancel(handler: DbtCloudJobRunHandler, timeout_seconds: float) -> DbtCloudRun:
    """Poll until the run ends; cancel it if it does not end in time or polling fails."""
    try:
        return handler.wait(timeout=timeout_seconds)
    except DagsterExecutionInterruptedError:
        raise  # the client already cancelled the run
    except Exception as exc:
        url = _run_url(handler)
        cancelled = True
        try:
            handler.cancel()
        except Exception:
            cancelled = False
        outcome = "was cancelled" if cancelled else "could NOT be cancelled: cancel it in dbt Cloud"
        what = (
            f"could not be followed ({exc})"
            if isinstance(exc, DbtCloudApiError)
            else f"did not finish within {timeout_seconds:g}s"
        )
        raise dg.Failure(
            description=f"dbt Cloud run {handler.run_id} {what} and {outcome} ({url or 'no run link'})",
            metadata=_link_metadata(handler, url),
        ) from exc


def _node_errors(handler: DbtCloudJobRunHandler) -> list[str]:
    """`<node>: <message>` for each failed node in run_results.json."""
    if "run_results.json" not in handler.list_run_artifacts():
        return []
    results = handler.get_run_results().get("results") or []
    return [
        f"{result.get('unique_id')}: {(result.get('message') or result.get('status')).strip()}"
        for result in results
        if result.get("status") in _FAILED_NODE_STATUSES
    ]


def _log_errors(handler: DbtCloudJobRunHandler) -> list[str]:
    """The error lines of the run steps' logs, when there are no run results (dbt stopped early)."""
    logs = handler.get_run_logs() or ""
    return [line.strip() for line in logs.splitlines() if "Error" in line and line.strip()]


def dbt_errors(handler: DbtCloudJobRunHandler) -> list[str]:
    """dbt's own error messages for a failed run; reading them is a courtesy, never a new failure."""
    for source in (_node_errors, _log_errors):
        try:
            if errors := source(handler):
                return errors[:_MAX_ERRORS] + (
                    [f"... and {len(errors) - _MAX_ERRORS} more"] if len(errors) > _MAX_ERRORS else []
                )
        except Exception:
            continue
    return []


def _describe(run: DbtCloudRun, handler: DbtCloudJobRunHandler) -> str:
    status = run.status.name.lower() if run.status else "unknown"
    described = f"dbt Cloud run {run.id} ended {status}: {run.url or 'no run link'}"
    if errors := dbt_errors(handler):
        described += "\n" + "\n".join(errors)
    return described


def raise_for_run(run: DbtCloudRun, handler: DbtCloudJobRunHandler) -> None:
    if run.status not in FAILED:
        return
    raise dg.Failure(description=_describe(run, handler), metadata=_link_metadata(handler, run.url))


def stream_events(invocation: DbtCloudCliInvocation, timeout_seconds: float) -> Iterator[Any]:
    """The invocation's asset events, after a bounded wait; a failed run fails with its link."""
    handler = invocation.run_handler
    run = wait_or_cancel(handler, timeout_seconds)
    try:
        yield from invocation.wait(timeout=timeout_seconds)
    except dg.Failure as exc:
        # Events of the nodes that did run were yielded above; this names the run and links it.
        description = (
            _describe(run, handler)
            if run.status in FAILED
            else f"Reading the results of dbt Cloud run {run.id} failed ({run.url}): {exc.description}"
        )
        raise dg.Failure(description=description, metadata=_link_metadata(handler, run.url)) from exc
