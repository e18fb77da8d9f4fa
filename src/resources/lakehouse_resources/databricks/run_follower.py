"""Following a Databricks job run to its end and cancelling it: one waiter for the Pipes client's
one-time runs and for runs of deployed jobs, so both survive the same faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from dagster._core.errors import DagsterPipesExecutionError
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import DeadlineExceeded, InternalError, TemporarilyUnavailable
from databricks.sdk.errors.base import DatabricksError
from databricks.sdk.service import jobs

T = TypeVar("T")

ENDED = (
    jobs.RunLifeCycleState.TERMINATED,
    jobs.RunLifeCycleState.SKIPPED,
    jobs.RunLifeCycleState.INTERNAL_ERROR,
)
_STOPPING = (jobs.RunLifeCycleState.TERMINATING, *ENDED)
# Server-side errors on a read: the SDK retries only 429/503, so one 500 on runs/get would end the
# step. Reading a run's state is idempotent, so these are retried; 4xx (a wrong request) are not.
_TRANSIENT_READ_ERRORS = (InternalError, TemporarilyUnavailable, DeadlineExceeded)
_MAX_READ_BACKOFF_SECONDS = 10.0
# The SDK gives up on an unreachable host with TimeoutError after its retry budget.
UNREACHABLE = (TimeoutError, requests.ConnectionError)


class DatabricksRunError(DagsterPipesExecutionError):
    """The Databricks run failed, timed out, was cancelled, or could not be followed."""


def unreachable_error(client: WorkspaceClient, what: str, exc: BaseException) -> DatabricksRunError:
    config = client.config
    if hint := getattr(client, "unreachable_hint", None):  # the local stand-in, not a workspace
        return DatabricksRunError(
            f"The Databricks stand-in at {config.host} stopped answering ({what}; "
            f"{config.retry_timeout_seconds} s of retries): {hint}. ({type(exc).__name__}: {exc})"
        )
    return DatabricksRunError(
        f"Cannot reach the Databricks workspace at {config.host} ({what}) after"
        f" {config.retry_timeout_seconds} s of retries: {exc}. Check DATABRICKS_HOST and the network."
    )


def standin_gone(client: WorkspaceClient) -> bool:
    """True when `client` is a local stand-in's and nothing answers at its address any more. Its runs
    died with it, and each cancel or cleanup call would only spend another retry budget (10 s) on a
    closed port before the step can fail; a workspace is always worth those attempts."""
    from lakehouse_resources.databricks.resource import accepts_connections

    host = client.config.host
    return bool(getattr(client, "unreachable_hint", None) and host and not accepts_connections(host))


def api_call(client: WorkspaceClient, what: str, call: Callable[[], T]) -> T:
    """`call()`, with API and network failures as a DatabricksRunError naming `what` was tried."""
    try:
        return call()
    except DatabricksError as exc:
        raise DatabricksRunError(
            f"Databricks API request failed ({what}): {type(exc).__name__}: {exc}"
        ) from exc
    except UNREACHABLE as exc:
        raise unreachable_error(client, what, exc) from exc


def read_retrying(
    what: str, read: Callable[[], T], deadline: float, warn: Callable[[str], object], backoff: float
) -> T:
    """`read()` (an idempotent GET), retried with growing backoff on server errors until `deadline`."""
    backoff = backoff or 0.5
    while True:
        try:
            return read()
        except _TRANSIENT_READ_ERRORS as exc:
            if time.monotonic() + backoff > deadline:
                raise
            warn(f"Reading {what} failed ({type(exc).__name__}: {exc}); retrying in {backoff:g} s")
            time.sleep(backoff)
            backoff = min(backoff * 2, _MAX_READ_BACKOFF_SECONDS)


def ended(state: jobs.RunState) -> str:
    """How a run ended, for messages: its result state, else its life cycle state."""
    end = state.result_state or state.life_cycle_state
    return end.value if end else "unknown"


@dataclass(frozen=True)
class RunFollower:
    """Polls runs/get until a run ends; `log` is the step's logger (`context.log`)."""

    client: WorkspaceClient
    log: Any
    poll_interval_seconds: float = 1.0
    cancel_wait_seconds: float = 60.0
    kind: str = "Databricks run"

    def start_and_wait(
        self, what: str, start: Callable[[], int], timeout: float, on_failure: Callable[[], object]
    ) -> tuple[int, jobs.Run]:
        """Start a run (`start()` returns its id) and wait for its end. Interrupts (the Dagster run
        terminated), timeouts and API failures alike call `on_failure`, cancel the run if it was
        started, and let the error fail the step."""
        run_id: int | None = None
        try:
            run_id = api_call(self.client, what, start)
            return run_id, self.wait(run_id, timeout)
        except BaseException:
            on_failure()
            if run_id is not None:
                self.cancel(run_id)
            raise

    def wait(self, run_id: int, timeout: float) -> jobs.Run:
        """The run once it has ended; DatabricksRunError when `timeout` passes first (the caller cancels)."""
        deadline = time.monotonic() + timeout
        seen = None
        while True:
            run = api_call(self.client, f"get run {run_id}", lambda: self._get_run(run_id, deadline))
            state = run.state.life_cycle_state if run.state else None
            if state != seen:
                self.log.info(f"{self.kind} {run_id} is {state.value if state else '?'}: {run.run_page_url}")
                seen = state
            if state in ENDED:
                return run
            if time.monotonic() > deadline:
                raise DatabricksRunError(
                    f"{self.kind} {run_id} did not finish within {timeout:g} s and was cancelled"
                    f" (run page: {run.run_page_url})"
                )
            time.sleep(self.poll_interval_seconds)

    def _get_run(self, run_id: int, deadline: float) -> jobs.Run:
        return read_retrying(
            f"{self.kind} {run_id}",
            lambda: self.client.jobs.get_run(run_id),
            deadline,
            self.log.warning,
            self.poll_interval_seconds,
        )

    def cancel(self, run_id: int) -> None:
        """Cancel the run and wait (a while) until Databricks stops it; never raises, since the step
        is already failing for a reason worth keeping."""
        if standin_gone(self.client):
            self.log.warning(f"Not cancelling {self.kind} {run_id}: the stand-in that ran it is gone")
            return
        self.log.warning(f"Cancelling {self.kind} {run_id}")
        try:
            self.client.jobs.cancel_run(run_id)
            give_up = time.monotonic() + self.cancel_wait_seconds
            while time.monotonic() < give_up:
                run = self.client.jobs.get_run(run_id)
                if run.state and run.state.life_cycle_state in _STOPPING:
                    return
                time.sleep(self.poll_interval_seconds)
            self.log.warning(f"{self.kind} {run_id} still runs {self.cancel_wait_seconds:g} s after cancel")
        except Exception as exc:
            self.log.error(f"Could not cancel {self.kind} {run_id}: {exc}")
