"""Waiting for a dbt Cloud run without leaving it behind, and failing with a link to it.

The stock client raises on its poll timeout but leaves the dbt Cloud run going, and its failure
carries the run page only inside a JSON blob. Here a run that outlives the timeout is cancelled,
and every failure names the run and links it.
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

DEFAULT_TIMEOUT_SECONDS = 30 * 60
FAILED = {DbtCloudJobRunStatusType.ERROR, DbtCloudJobRunStatusType.CANCELLED}


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
        raise dg.Failure(
            description=(
                f"dbt Cloud run {handler.run_id} did not finish within {timeout_seconds:g}s and {outcome}"
                f" ({url or 'no run link'}). Cause: {exc}"
            ),
            metadata=_link_metadata(handler, url),
        ) from exc


def _describe(run: DbtCloudRun) -> str:
    status = run.status.name.lower() if run.status else "unknown"
    return f"dbt Cloud run {run.id} ended {status}: {run.url or 'no run link'}"


def raise_for_run(run: DbtCloudRun, handler: DbtCloudJobRunHandler) -> None:
    if run.status not in FAILED:
        return
    raise dg.Failure(description=_describe(run), metadata=_link_metadata(handler, run.url))


def stream_events(invocation: DbtCloudCliInvocation, timeout_seconds: float) -> Iterator[Any]:
    """The invocation's asset events, after a bounded wait; a failed run fails with its link."""
    handler = invocation.run_handler
    run = wait_or_cancel(handler, timeout_seconds)
    try:
        yield from invocation.wait(timeout=timeout_seconds)
    except dg.Failure as exc:
        # Events of the nodes that did run were yielded above; this names the run and links it.
        description = (
            _describe(run)
            if run.status in FAILED
            else f"Reading the results of dbt Cloud run {run.id} failed ({run.url}): {exc.description}"
        )
        raise dg.Failure(description=description, metadata=_link_metadata(handler, run.url)) from exc
