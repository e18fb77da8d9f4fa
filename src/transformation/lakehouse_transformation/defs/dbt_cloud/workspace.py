"""The dbt Cloud workspace from settings, with its definitions state persisted on disk.

dagster-dbt's `DbtCloudWorkspace` fetches its state (the ad hoc job and a `dbt parse` manifest)
whenever Definitions are initialized: every code-server start and every `dagster dev` reload starts
a dbt Cloud run, and a location cannot load while dbt Cloud is unreachable. Here the state is
fetched by a command, written to `state_dir`, and only read when Definitions load.
Locally the file name carries a hash of the kaizen_wars project, so editing a model needs a new
state. `lakehouse dbt-cloud prepare` (`prepare_dbt_cloud_state`) writes it: a deploy step outside
local, run by `task dev`, `task pipeline` and `task standins` locally. Loading only reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster._serdes import deserialize_value, serialize_value
from dagster_dbt.cloud_v2.resources import DbtCloudCredentials, DbtCloudWorkspace
from dagster_dbt.cloud_v2.types import DbtCloudWorkspaceData
from lakehouse_resources.dbt_cloud_state import state_path
from lakehouse_resources.settings import LakehouseSettings
from pydantic import Field, PrivateAttr

from lakehouse_transformation.defs.dbt_cloud.client import LakehouseDbtCloudClient

# The deploy step that writes the state; docs/operations.md runs it in CI.
PREPARE_COMMAND = "uv run lakehouse dbt-cloud prepare"


class DbtCloudStateError(RuntimeError):
    """The workspace state was never prepared, or cannot be fetched; says which command prepares it."""


class PersistedDbtCloudWorkspace(DbtCloudWorkspace):
    """A `DbtCloudWorkspace` whose state (ad hoc job, manifest) is a file, read at load, never fetched then.

    `prepare_state()` fetches it (one `dbt parse` run in dbt Cloud) and writes it; loading
    Definitions only reads it, so a location loads with dbt Cloud unreachable.
    """

    state_path: str = Field(description="JSON file holding the serialized DbtCloudWorkspaceData.")
    rate_limit_wait_seconds: float = Field(
        default=300, description="How long 429/503 answers are waited out (honouring Retry-After)."
    )
    unreachable_hint: str | None = Field(
        default=None, description="Said when dbt Cloud does not answer at all."
    )
    _refreshed: DbtCloudWorkspaceData | None = PrivateAttr(default=None)
    _client: LakehouseDbtCloudClient | None = PrivateAttr(default=None)

    def get_client(self) -> LakehouseDbtCloudClient:  # pyright: ignore[reportIncompatibleMethodOverride]
        if self._client is None:
            self._client = LakehouseDbtCloudClient(
                account_id=self.credentials.account_id,
                token=self.credentials.token,
                access_url=self.credentials.access_url,
                request_max_retries=self.request_max_retries,
                request_retry_delay=self.request_retry_delay,
                request_timeout=self.request_timeout,
                rate_limit_wait_seconds=self.rate_limit_wait_seconds,
            )
        return self._client

    def fetch_workspace_data(self) -> DbtCloudWorkspaceData:
        path = Path(self.state_path)
        try:
            return deserialize_value(path.read_text(), DbtCloudWorkspaceData)
        except FileNotFoundError:
            problem = "was never prepared"
        except Exception as exc:  # a truncated file or one from another dagster-dbt version
            problem = f"cannot be read ({type(exc).__name__}: {exc})"
        raise DbtCloudStateError(
            f"The dbt Cloud workspace state {path} {problem}. Prepare it (a deploy step; locally it"
            f" starts the stand-in if needed): `{PREPARE_COMMAND}`"
        )

    def get_or_fetch_workspace_data(self) -> DbtCloudWorkspaceData:
        # After refresh_state() in a run, the new ad hoc job wins over the state the run was loaded with.
        return self._refreshed or super().get_or_fetch_workspace_data()

    def prepare_state(self) -> DbtCloudWorkspaceData:
        """Fetch the state from dbt Cloud now (creating the ad hoc job if missing) and write it."""
        try:
            data = super().fetch_workspace_data()
        except Exception as exc:
            raise DbtCloudStateError(
                f"Could not fetch the dbt Cloud workspace state from {self.credentials.access_url}: {exc}"
                + (f". {self.unreachable_hint}" if self.unreachable_hint else "")
            ) from exc
        path = Path(self.state_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(serialize_value(data))
        tmp.replace(path)  # atomic, so a concurrent loader never reads half a file
        for stale in path.parent.glob(f"{path.name.rsplit('-', 1)[0]}-*.json"):
            if stale != path:
                stale.unlink(missing_ok=True)
        return data

    def refresh_state(self, log: dg.DagsterLogManager | None = None) -> DbtCloudWorkspaceData:
        """Fetch the state again (the ad hoc job was deleted in dbt Cloud) and use it from now on."""
        self._refreshed = self.prepare_state()
        if log:
            log.warning(
                f"Refreshed the dbt Cloud workspace state {self.state_path}: ad hoc job(s)"
                f" {list(self._refreshed.adhoc_job_ids)}"
            )
        return self._refreshed


STANDIN_HINT = (
    "The local dbt Cloud stand-in is not running: start it with `uv run task standins` (or `task dev`)"
)


def build_workspace(settings: LakehouseSettings) -> PersistedDbtCloudWorkspace:
    """The workspace the settings name; locally the stand-in, with the checkout's token."""
    target = settings.dbt_cloud_target()
    return PersistedDbtCloudWorkspace(
        credentials=DbtCloudCredentials(
            account_id=target.account_id, token=target.token, access_url=target.access_url
        ),
        project_id=target.project_id,
        environment_id=target.environment_id,
        state_path=str(state_path(settings)),
        unreachable_hint=STANDIN_HINT if settings.uses_dbt_cloud_standin else None,
    )


def prepare_dbt_cloud_state(settings: LakehouseSettings, refresh: bool = False) -> Path:
    """Fetch and persist the workspace state (a deploy step); without `refresh` a saved state is kept."""
    workspace = build_workspace(settings)
    path = Path(workspace.state_path)
    if refresh or not path.exists():
        workspace.prepare_state()
    return path
