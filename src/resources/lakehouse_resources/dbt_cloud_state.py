"""Where the dbt Cloud workspace state for the settings lives, computed without dagster-dbt.

The transformation location reads that file at load; `lakehouse dbt-cloud prepare` writes it.
Locally the name carries a hash of the kaizen_wars project, so editing a model needs a new state.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lakehouse_resources.asset_keys import KAIZEN_WARS
from lakehouse_resources.settings import LakehouseSettings

PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def state_path(settings: LakehouseSettings) -> Path:
    target = settings.dbt_cloud_target()
    digest = _project_digest(settings, target.access_url)
    name = f"{KAIZEN_WARS}-{target.account_id}-{target.project_id}-{target.environment_id}-{digest}.json"
    return settings.state_dir / "dbt_cloud" / name


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
