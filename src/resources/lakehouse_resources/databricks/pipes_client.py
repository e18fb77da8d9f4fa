"""The Pipes client: submit one task, follow it to the end, and never leave a run or a file behind."""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import dagster as dg
import requests
from dagster._core.errors import DagsterPipesExecutionError
from dagster._core.pipes.client import PipesClientCompletedInvocation
from dagster_databricks.pipes import BasePipesDatabricksClient
from dagster_pipes import PipesExtras
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import DeadlineExceeded, InternalError, TemporarilyUnavailable
from databricks.sdk.errors.base import DatabricksError
from databricks.sdk.service import jobs

from lakehouse_resources.databricks.spec import (
    ComputeSettings,
    DatabricksTaskSpec,
    PipesBootstrap,
    build_submit_request,
)
from lakehouse_resources.databricks.volumes import VolumesContextInjector, VolumesMessageReader

T = TypeVar("T")
Context = dg.AssetExecutionContext | dg.OpExecutionContext

_ENDED = (
    jobs.RunLifeCycleState.TERMINATED,
    jobs.RunLifeCycleState.SKIPPED,
    jobs.RunLifeCycleState.INTERNAL_ERROR,
)
_STOPPING = (jobs.RunLifeCycleState.TERMINATING, *_ENDED)
# Server-side errors on a read: the SDK retries only 429/503, so one 500 on runs/get would end the
# step. Reading a run's state is idempotent, so these are retried; 4xx (a wrong request) are not.
_TRANSIENT_READ_ERRORS = (InternalError, TemporarilyUnavailable, DeadlineExceeded)
_MAX_READ_BACKOFF_SECONDS = 10.0
# The SDK gives up on an unreachable host with TimeoutError after its retry budget.
_UNREACHABLE = (TimeoutError, requests.ConnectionError)


class DatabricksRunError(DagsterPipesExecutionError):
    """The Databricks run failed, timed out, was cancelled, or could not be followed."""


class LakehousePipesDatabricksClient(BasePipesDatabricksClient):
    def __init__(
        self,
        client: WorkspaceClient,
        *,
        compute: ComputeSettings,
        volume_path: str,
        timeout_seconds: float,
        timeout_backstop_seconds: float,
        poll_interval_seconds: float,
        message_interval_seconds: float,
        message_grace_seconds: float,
        cancel_wait_seconds: float,
    ) -> None:
        super().__init__(client=client, poll_interval_seconds=poll_interval_seconds, forward_termination=True)
        self.compute = compute
        self.volume_path = volume_path
        self.timeout_seconds = timeout_seconds
        self.timeout_backstop_seconds = timeout_backstop_seconds
        self.message_interval_seconds = message_interval_seconds
        self.message_grace_seconds = message_grace_seconds
        self.cancel_wait_seconds = cancel_wait_seconds

    def run(  # pyright: ignore[reportIncompatibleMethodOverride]
        self, *, context: Context, task: DatabricksTaskSpec, extras: PipesExtras | None = None
    ) -> PipesClientCompletedInvocation:
        try:
            return self._run(context, task, extras)
        except _UNREACHABLE as exc:
            # The Volumes folders are created first: without this their failure reads as a Volume problem.
            raise unreachable_error(self.client, "prepare the Pipes folders", exc) from exc

    def _run(
        self, context: Context, task: DatabricksTaskSpec, extras: PipesExtras | None
    ) -> PipesClientCompletedInvocation:
        label = context.run_id.split("-")[0]
        injector = VolumesContextInjector(client=self.client, volume_path=self.volume_path, label=label)
        reader = VolumesMessageReader(
            client=self.client,
            volume_path=self.volume_path,
            label=label,
            interval=self.message_interval_seconds,
            grace_seconds=self.message_grace_seconds,
        )
        timeout = task.timeout_seconds or self.timeout_seconds
        extras = {**(extras or {}), "env": dict(task.env), "parameters": dict(task.parameters)}
        run_id: int | None = None
        with dg.open_pipes_session(
            context=context, extras=extras, context_injector=injector, message_reader=reader
        ) as session:
            bootstrap = PipesBootstrap(
                session.get_bootstrap_env_vars(), session.get_bootstrap_cli_arguments()
            )
            body = build_submit_request(
                task,
                self.compute,
                bootstrap,
                run_name=f"dagster-{label}-{context.op_handle}",
                task_key=_task_key(context),
                tags={**task.tags, **session.default_remote_invocation_info},
                # Databricks stops the run itself if this process dies before it can cancel.
                timeout_seconds=math.ceil(timeout + self.timeout_backstop_seconds),
                idempotency_token=uuid.uuid4().hex,
            )
            try:
                run_id = self._api("submit the run", lambda: self._submit(body))
                run = self._wait(context, run_id, time.monotonic() + timeout, timeout)
            except BaseException:
                # Interrupts (run terminated), timeouts and API failures alike: stop the remote
                # run, then let the error fail the step.
                reader.abandon()
                if run_id is not None:
                    self._cancel(context, run_id)
                raise
            state = run.state or jobs.RunState()
            output = self._output(run)
            self._log_output(context, run, output)
            if state.result_state is not jobs.RunResultState.SUCCESS:
                reader.abandon()
                ended = state.result_state or state.life_cycle_state
                raise DatabricksRunError(
                    f"Databricks run {run_id} ended {ended.value if ended else 'unknown'}:"
                    f" {_failure_detail(state, output)} (run page: {run.run_page_url})"
                )
        if not session.message_handler.received_closed_message:
            raise DatabricksRunError(
                f"Databricks run {run_id} succeeded but its Pipes messages never arrived in"
                f" {self.volume_path} (run page: {run.run_page_url})"
            )
        metadata: dict[str, Any] = {"databricks_run_id": dg.MetadataValue.int(run_id)}
        if run.run_page_url:
            metadata["databricks_run_url"] = dg.MetadataValue.url(run.run_page_url)
        return PipesClientCompletedInvocation(session, metadata=metadata)

    def _output(self, run: jobs.Run) -> jobs.RunOutput | None:
        """The task's output (stdout `logs`, `error`); a courtesy, so a failure to read it is no error."""
        task_run_id = run.tasks[0].run_id if run.tasks else None
        try:
            return self.client.jobs.get_run_output(task_run_id or run.run_id or 0)
        except (DatabricksError, *_UNREACHABLE):
            return None

    @staticmethod
    def _log_output(context: Context, run: jobs.Run, output: jobs.RunOutput | None) -> None:
        # What the task printed, in the Dagster run's logs (its Pipes log lines arrive as they happen).
        if output and output.logs and output.logs.strip():
            cut = " (truncated by Databricks)" if output.logs_truncated else ""
            context.log.info(f"Databricks run {run.run_id} output{cut}:\n{output.logs.rstrip()}")

    def _submit(self, body: dict[str, Any]) -> int:
        # The raw endpoint with the body build_submit_request made (only fields the Jobs API
        # defines). The idempotency token makes the SDK's retries of this POST (429/503) safe.
        response = self.client.api_client.do("POST", "/api/2.2/jobs/runs/submit", body=body)
        assert isinstance(response, dict)
        return int(response["run_id"])

    def _get_run(self, context: Context, run_id: int, deadline: float) -> jobs.Run:
        """runs/get, retried with backoff on server errors until `deadline`."""
        backoff = self.poll_interval_seconds or 0.5
        while True:
            try:
                return self.client.jobs.get_run(run_id)
            except _TRANSIENT_READ_ERRORS as exc:
                if time.monotonic() + backoff > deadline:
                    raise
                context.log.warning(
                    f"Reading Databricks run {run_id} failed ({type(exc).__name__}: {exc}); retrying in {backoff:g} s"
                )
                time.sleep(backoff)
                backoff = min(backoff * 2, _MAX_READ_BACKOFF_SECONDS)

    def _wait(self, context: Context, run_id: int, deadline: float, timeout: float) -> jobs.Run:
        seen = None
        while True:
            run = self._api(f"get run {run_id}", lambda: self._get_run(context, run_id, deadline))
            state = run.state.life_cycle_state if run.state else None
            if state != seen:
                context.log.info(
                    f"Databricks run {run_id} is {state.value if state else '?'}: {run.run_page_url}"
                )
                seen = state
            if state in _ENDED:
                return run
            if time.monotonic() > deadline:
                raise DatabricksRunError(
                    f"Databricks run {run_id} did not finish within {timeout:g} s and was cancelled"
                    f" (run page: {run.run_page_url})"
                )
            time.sleep(self.poll_interval_seconds)

    def _cancel(self, context: Context, run_id: int) -> None:
        context.log.warning(f"Cancelling Databricks run {run_id}")
        try:
            self.client.jobs.cancel_run(run_id)
            give_up = time.monotonic() + self.cancel_wait_seconds
            while time.monotonic() < give_up:
                run = self.client.jobs.get_run(run_id)
                if run.state and run.state.life_cycle_state in _STOPPING:
                    return
                time.sleep(self.poll_interval_seconds)
            context.log.warning(
                f"Databricks run {run_id} still runs {self.cancel_wait_seconds:g} s after cancel"
            )
        except Exception as exc:
            # The step is already failing for a reason worth keeping; report this one beside it.
            context.log.error(f"Could not cancel Databricks run {run_id}: {exc}")

    def _api(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except DatabricksError as exc:
            raise DatabricksRunError(
                f"Databricks API request failed ({what}): {type(exc).__name__}: {exc}"
            ) from exc
        except _UNREACHABLE as exc:
            raise unreachable_error(self.client, what, exc) from exc


def unreachable_error(client: WorkspaceClient, what: str, exc: BaseException) -> DatabricksRunError:
    config = client.config
    return DatabricksRunError(
        f"Cannot reach the Databricks workspace at {config.host} ({what}) after"
        f" {config.retry_timeout_seconds} s of retries: {exc}. Check DATABRICKS_HOST and the network."
    )


def _failure_detail(state: jobs.RunState, output: jobs.RunOutput | None) -> str:
    """The state message, plus the task's own error when it says more (Databricks often
    answers "Workload failed, see run output for details")."""
    message = state.state_message or "no message"
    error = output.error if output else None
    return f"{message} ({error})" if error and error not in message else message


def _task_key(context: Context) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(context.op_handle))[:100]
