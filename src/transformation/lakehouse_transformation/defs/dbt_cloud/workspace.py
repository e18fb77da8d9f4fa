"""The dbt Cloud workspace from settings, with its definitions state persisted on disk.

dagster-dbt's `DbtCloudWorkspace` fetches its state (the ad hoc job and a `dbt parse` manifest)
whenever Definitions are initialized: every code-server start and every `dagster dev` reload starts
a dbt Cloud run. Here the state is fetched once, written to `state_dir`, and read back afterwards.
Locally the file name carries a hash of the kaizen_wars project, so editing a model re-parses;
elsewhere `prepare_dbt_cloud_state(settings, refresh=True)` (e.g. at deploy) fetches it again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dagster._serdes import deserialize_value, serialize_value
from dagster_dbt.cloud_v2.resources import DbtCloudCredentials, DbtCloudWorkspace
from dagster_dbt.cloud_v2.types import DbtCloudWorkspaceData
from lakehouse_resources.asset_keys import KAIZEN_WARS
from lakehouse_resources.settings import LakehouseSettings, SettingsError
from pydantic import Field

DEFAULT_ACCESS_URL = "https://cloud.getdbt.com"
PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


class DbtCloudStateError(RuntimeError):
    """The workspace state is neither saved nor fetchable; says where it looked and what to start."""


class PersistedDbtCloudWorkspace(DbtCloudWorkspace):
    """A `DbtCloudWorkspace` that reads its workspace data from `state_path` when it exists."""

    state_path: str = Field(description="JSON file holding the serialized DbtCloudWorkspaceData.")

    def fetch_workspace_data(self) -> DbtCloudWorkspaceData:
        path = Path(self.state_path)
        if path.exists():
            try:
                return deserialize_value(path.read_text(), DbtCloudWorkspaceData)
            except Exception:  # a truncated or older file is refetched, not fatal
                pass
        try:
            data = super().fetch_workspace_data()
        except Exception as exc:
            raise DbtCloudStateError(
                f"Could not prepare the dbt Cloud workspace at {self.credentials.access_url} (no saved state at "
                f"{path}). Locally, start the stand-in: `uv run python -m lakehouse_standins.dbt_cloud`. Cause: {exc}"
            ) from exc
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(serialize_value(data))
        tmp.replace(path)  # atomic, so a concurrent loader never reads half a file
        for stale in path.parent.glob(f"{path.name.rsplit('-', 1)[0]}-*.json"):
            if stale != path:
                stale.unlink(missing_ok=True)
        return data


def _project_digest(settings: LakehouseSettings, access_url: str) -> str:
    digest = hashlib.sha256(access_url.encode())
    if settings.is_local:
        project_dir = settings.dbt_dir / KAIZEN_WARS
        for file in sorted(p for p in project_dir.rglob("*") if p.suffix in PROJECT_SUFFIXES):
            if "target" in file.relative_to(project_dir).parts:
                continue
            digest.update(file.relative_to(project_dir).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def build_workspace(settings: LakehouseSettings) -> PersistedDbtCloudWorkspace:
    if settings.is_local:
        # The stand-in accepts any token; ids default to the stand-in's account, project and environment.
        account_id = settings.dbt_cloud_account_id or 1
        project_id = settings.dbt_cloud_project_id or 1
        environment_id = settings.dbt_cloud_environment_id or 1
        token = settings.dbt_cloud_token.get_secret_value() if settings.dbt_cloud_token else "local-standin"
        access_url = settings.dbt_cloud_access_url or settings.dbt_cloud_standin_url
    else:
        account_id, project_id = settings.dbt_cloud_account_id, settings.dbt_cloud_project_id
        environment_id, secret = settings.dbt_cloud_environment_id, settings.dbt_cloud_token
        required = {
            "DBT_CLOUD_ACCOUNT_ID": account_id,
            "DBT_CLOUD_TOKEN": secret,
            "DBT_CLOUD_PROJECT_ID": project_id,
            "DBT_CLOUD_ENVIRONMENT_ID": environment_id,
        }
        if not (account_id and project_id and environment_id and secret):
            missing = ", ".join(name for name, value in required.items() if not value)
            raise SettingsError(f"LAKEHOUSE_ENV={settings.env.value} needs {missing}")
        token = secret.get_secret_value()
        access_url = settings.dbt_cloud_access_url or DEFAULT_ACCESS_URL
    digest = _project_digest(settings, access_url)
    state_name = f"{KAIZEN_WARS}-{account_id}-{project_id}-{environment_id}-{digest}.json"
    return PersistedDbtCloudWorkspace(
        credentials=DbtCloudCredentials(account_id=account_id, token=token, access_url=access_url),
        project_id=project_id,
        environment_id=environment_id,
        state_path=str(settings.state_dir / "dbt_cloud" / state_name),
    )


def prepare_dbt_cloud_state(settings: LakehouseSettings, refresh: bool = False) -> Path:
    """Fetch and persist the workspace state now (a deploy step); `refresh` discards the old file."""
    workspace = build_workspace(settings)
    path = Path(workspace.state_path)
    if refresh:
        path.unlink(missing_ok=True)
    workspace.fetch_workspace_data()
    return path


def ensure_local_state(settings: LakehouseSettings) -> None:
    """Locally, prepare the workspace state against a short-lived stand-in when none is running.

    `dg check defs`, `dg dev` and tests load this location without `task dev`'s stand-ins; the
    state is the same a running stand-in would give (a real `dbt parse` of dbt/kaizen_wars), and
    later loads read it from disk.
    """
    if not settings.is_local or settings.dbt_cloud_access_url:
        return
    workspace = build_workspace(settings)
    if Path(workspace.state_path).exists():
        return
    from lakehouse_standins.local import dbt_cloud_config, port_answers

    if port_answers(settings.dbt_cloud_standin_port):
        return
    from lakehouse_standins.dbt_cloud import DbtCloudStandin

    config = dbt_cloud_config(settings)
    with DbtCloudStandin(config) as standin:
        # The stand-in requires the token it was configured with, as dbt Cloud does.
        transient = PersistedDbtCloudWorkspace(
            credentials=DbtCloudCredentials(
                account_id=workspace.credentials.account_id, token=config.token, access_url=standin.url
            ),
            project_id=workspace.project_id,
            environment_id=workspace.environment_id,
            state_path=workspace.state_path,
        )
        transient.fetch_workspace_data()
