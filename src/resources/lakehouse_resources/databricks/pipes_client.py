"""The Pipes client: submit one task, follow it to the end, and never leave a run or a file behind."""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

import dagster as dg
from dagster._core.pipes.client import PipesClientCompletedInvocation
from dagster_databricks.pipes import BasePipesDatabricksClient
from dagster_pipes import PipesExtras
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors.base import DatabricksError
from databricks.sdk.service import jobs

from lakehouse_resources.databricks.run_follower import (
    UNREACHABLE,
    DatabricksRunError,
    RunFollower,
    ended,
    unreachable_error,
)
from lakehouse_resources.databricks.spec import (
    ComputeSettings,
    DatabricksTaskSpec,
    PipesBootstrap,
    build_submit_request,
)
from lakehouse_resources.databricks.volumes import VolumesContextInjector, VolumesMessageReader

Context = dg.AssetExecutionContext | dg.OpExecutionContext

__all__ = ["DatabricksRunError", "LakehousePipesDatabricksClient"]


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
        except UNREACHABLE as exc:
            # The Volumes folders are created first: without this their failure reads as a Volume problem.
            raise unreachable_error(self.client, "prepare the Pipes folders", exc) from exc

    def _run(
        self, context: Context, task: DatabricksTaskSpec, extras: PipesExtras | None
    ) -> PipesClientCompletedInvocation:
        op = _op_context(context)
        label = op.run_id.split("-")[0]
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
                run_name=f"dagster-{label}-{op.op_handle}",
                task_key=_task_key(op),
                tags={**task.tags, **session.default_remote_invocation_info},
                # Databricks stops the run itself if this process dies before it can cancel.
                timeout_seconds=math.ceil(timeout + self.timeout_backstop_seconds),
                idempotency_token=uuid.uuid4().hex,
            )
            follower = RunFollower(
                self.client, context.log, self.poll_interval_seconds, self.cancel_wait_seconds
            )
            run_id, run = follower.start_and_wait(
                "submit the run", lambda: self._submit(body), timeout, reader.abandon
            )
            state = run.state or jobs.RunState()
            output = self._output(run)
            self._log_output(context, run, output)
            if state.result_state is not jobs.RunResultState.SUCCESS:
                reader.abandon()
                raise DatabricksRunError(
                    f"Databricks run {run_id} ended {ended(state)}:"
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
        except (DatabricksError, *UNREACHABLE):
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


def _failure_detail(state: jobs.RunState, output: jobs.RunOutput | None) -> str:
    """The state message, plus the task's own error when it says more (Databricks often
    answers "Workload failed, see run output for details")."""
    message = state.state_message or "no message"
    error = output.error if output else None
    return f"{message} ({error})" if error and error not in message else message


def _op_context(context: Context) -> dg.OpExecutionContext:
    # An asset's context forwards `run_id` and `op_handle` with a deprecation warning.
    return context.op_execution_context if isinstance(context, dg.AssetExecutionContext) else context


def _task_key(op: dg.OpExecutionContext) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(op.op_handle))[:100]
