"""The Databricks resource assets use, and its factory from the lakehouse settings."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field, PrivateAttr

from lakehouse_resources.databricks.spec import ComputeSettings, DatabricksTaskSpec
from lakehouse_resources.settings import DatabricksCompute, LakehouseSettings, get_settings

if TYPE_CHECKING:
    # dagster_databricks and the SDK take ~1.7 s to import; every process of the downstream
    # location would pay it even when no Databricks asset runs, so they load on first use.
    from dagster._core.pipes.client import PipesClientCompletedInvocation
    from dagster_pipes import PipesExtras
    from databricks.sdk import WorkspaceClient

    from lakehouse_resources.databricks.pipes_client import Context, LakehousePipesDatabricksClient

STANDIN_RETRY_SECONDS = 10
STANDIN_HINT = (
    "the local Databricks stand-in is not running: start it with `uv run task standins` (or `task dev`)"
)


class LakehouseDatabricksClient(dg.ConfigurableResource):
    """Runs notebooks, Python files and wheels on Databricks through Pipes over Unity Catalog Volumes.

    Nothing talks to Databricks until the first `run`: the WorkspaceClient is built then, with the
    SDK's standard auth (explicit host/token/profile here, else DATABRICKS_HOST, DATABRICKS_TOKEN or a
    CLI profile).
    """

    host: str | None = Field(None, description="Workspace URL; None uses the SDK's default auth chain")
    token: str | None = Field(None, description="PAT; prefer dg.EnvVar('DATABRICKS_TOKEN')")
    token_file: str | None = Field(
        None, description="A file holding the token (the local stand-in's), read when the client is built"
    )
    profile: str | None = Field(None, description="Databricks CLI profile")
    compute: DatabricksCompute = DatabricksCompute.SERVERLESS
    cluster_id: str | None = Field(None, description="For compute=existing_cluster")
    volume_path: str = Field("/Volumes/main/lakehouse/pipes", description="Volume for Pipes context/messages")
    notebook_root: str = Field(
        "/Workspace/Users/{current_user}/.bundle/lakehouse/prod/files/notebooks",
        description="Base of relative task paths; {current_user} is the workspace user, read at run time",
    )
    job_cluster_spark_version: str = "15.4.x-scala2.12"
    job_cluster_node_type_id: str = "i3.xlarge"
    job_cluster_num_workers: int = 1
    timeout_seconds: float = Field(
        3600, description="Default overall timeout per run; a task may override it"
    )
    timeout_backstop_seconds: float = Field(300, description="Added to the Databricks-side run timeout")
    poll_interval_seconds: float = Field(0.5, description="How often the run state is polled")
    message_interval_seconds: float = Field(1.0, description="How often Pipes message chunks are polled")
    message_grace_seconds: float = Field(5.0, description="How long to wait for late messages after a run")
    cancel_wait_seconds: float = 60.0
    retry_timeout_seconds: int = Field(60, description="SDK retry budget for 429/503/connection errors")
    unreachable_hint: str | None = Field(
        None, description="When set, a host that refuses connections fails at once with this hint"
    )

    _workspace_client: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def workspace_client(self) -> WorkspaceClient:
        from databricks.sdk import WorkspaceClient
        from databricks.sdk.core import Config

        with self._lock:
            if self._workspace_client is None:
                token = self.token or (Path(self.token_file).read_text().strip() if self.token_file else None)
                config = Config(
                    host=self.host,
                    token=token,
                    profile=self.profile,
                    retry_timeout_seconds=self.retry_timeout_seconds,
                )
                client = WorkspaceClient(config=config)
                # Read by `unreachable_error`: a stand-in that stops answering is named as such.
                client.unreachable_hint = self.unreachable_hint  # type: ignore[attr-defined]
                self._workspace_client = client
            return self._workspace_client

    def unreachable(self) -> str | None:
        """Why a local stand-in cannot be used now ("Nothing answers at ...: start it with ..."),
        or None: it accepts connections, or this is a workspace (whose client retries instead)."""
        if self.unreachable_hint and self.host and not accepts_connections(self.host):
            return f"Nothing answers at {self.host}: {self.unreachable_hint}"
        return None

    def pipes_client(self) -> LakehousePipesDatabricksClient:
        from lakehouse_resources.databricks.pipes_client import LakehousePipesDatabricksClient

        compute = ComputeSettings(
            compute=self.compute,
            cluster_id=self.cluster_id,
            job_cluster={
                "spark_version": self.job_cluster_spark_version,
                "node_type_id": self.job_cluster_node_type_id,
                "num_workers": self.job_cluster_num_workers,
            },
            notebook_root=self._notebook_root(),
        )
        return LakehousePipesDatabricksClient(
            self.workspace_client(),
            compute=compute,
            volume_path=self.volume_path,
            timeout_seconds=self.timeout_seconds,
            timeout_backstop_seconds=self.timeout_backstop_seconds,
            poll_interval_seconds=self.poll_interval_seconds,
            message_interval_seconds=self.message_interval_seconds,
            message_grace_seconds=self.message_grace_seconds,
            cancel_wait_seconds=self.cancel_wait_seconds,
        )

    def _notebook_root(self) -> str:
        if "{current_user}" not in self.notebook_root:
            return self.notebook_root
        from lakehouse_resources.databricks.run_follower import api_call

        client = self.workspace_client()
        me = api_call(client, "read the current user for the notebook root", client.current_user.me)
        return self.notebook_root.replace("{current_user}", me.user_name or "")

    def run(
        self, *, context: Context, task: DatabricksTaskSpec, extras: PipesExtras | None = None
    ) -> PipesClientCompletedInvocation:
        """Run `task`, wait for it, and return what it reported; raises if it did not succeed.

        Use `.get_results()` (or `.get_materialize_result()`) on the answer in an asset.
        """
        if reason := self.unreachable():
            from lakehouse_resources.databricks.run_follower import DatabricksRunError

            raise DatabricksRunError(reason)
        return self.pipes_client().run(context=context, task=task, extras=extras)


def accepts_connections(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=2):
            return True
    except OSError:
        return False


def databricks_client_from_settings(
    settings: LakehouseSettings | None = None, **overrides: Any
) -> LakehouseDatabricksClient:
    """The resource for the current environment; `overrides` set any other field (e.g. intervals)."""
    settings = settings or get_settings()
    token: Any = None
    hint = token_file = None
    if settings.uses_databricks_standin:
        # The stand-in requires the checkout's token, as a workspace requires a PAT; the resource
        # names its file, so the token never shows in the resource's config.
        token_file = settings.standin_token_path
        hint = STANDIN_HINT
        # A local server that refuses connections for this long has stopped (killed, Ctrl-C): fail
        # the step, and cancel and clean up, in well under a minute instead of 60 s per call.
        overrides = {"retry_timeout_seconds": STANDIN_RETRY_SECONDS, **overrides}
    elif settings.databricks_token is not None:
        # Keep the secret out of the resource's visible config: Dagster resolves it at run time.
        token = dg.EnvVar("DATABRICKS_TOKEN")
    fields: dict[str, Any] = {
        "unreachable_hint": hint,
        "token_file": token_file,
        "host": settings.databricks_workspace_url,
        "token": token,
        "profile": settings.databricks_profile,
        "compute": settings.databricks_compute,
        "cluster_id": settings.databricks_cluster,
        "volume_path": settings.databricks_volume,
        "notebook_root": settings.databricks_notebook_root,
    }
    return LakehouseDatabricksClient(**{**fields, **overrides})
