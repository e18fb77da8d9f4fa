"""Our own `databricks bundle deploy`, for a machine where the real CLI cannot be had.

It does what the CLI does, in the same places, so both leave a workspace in the same state (a test
deploys with each and compares): build the `data_ops` wheel and upload it to
`<root_path>/artifacts/.internal/`, sync the bundle's files (what git tracks or would track) to
`<root_path>/files` and remove the ones gone locally, then create, reset or leave alone each job
and pipeline by its deployed name, and delete those this bundle's target owned that it no longer
generates. The CLI keeps a state file; this deployer finds resources by name and tags instead.
"""

from __future__ import annotations

import glob
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

WHEEL_GLOB = "dist/data_ops-*.whl"


@dataclass
class DeployResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        parts = [
            f"{len(getattr(self, name))} {name}" for name in ("created", "updated", "unchanged", "deleted")
        ]
        return (
            f"bundle deploy: lakehouse's own deployer (no Databricks CLI here), {', '.join(parts)},"
            f" {self.files} files synced"
        )


def _owned(tags: dict[str, str] | None, bundle: str, target: str) -> bool:
    tags = tags or {}
    return tags.get("lakehouse_bundle") == bundle and tags.get("lakehouse_target") == target


def build_wheel(bundle_root: Path) -> Path:
    """The `data_ops` artifact, built as databricks.yml's `build` command builds it."""
    subprocess.run(
        ["uv", "build", "--package", "data-ops", "--wheel", "--out-dir", "dist", "--clear", "--quiet"],
        cwd=bundle_root,
        check=True,
        capture_output=True,
    )
    (wheel,) = glob.glob(str(bundle_root / WHEEL_GLOB))
    return Path(wheel)


def bundle_files(bundle_root: Path) -> list[Path]:
    """What the CLI syncs: the files git tracks under the bundle root and untracked ones it does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "."],
        cwd=bundle_root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return sorted(
        bundle_root / name for name in listed.split("\0") if name and (bundle_root / name).is_file()
    )


def _upload(api: Any, path: str, content: bytes) -> None:
    from urllib.parse import quote

    folder = str(PurePosixPath(path).parent)
    api.do("POST", "/api/2.0/workspace/mkdirs", body={"path": folder})
    api.do(
        "POST",
        f"/api/2.0/workspace-files/import-file/{quote(path.lstrip('/'))}",
        query={"overwrite": "true"},
        data=content,
        headers={"Content-Type": "application/octet-stream"},
    )


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """`value` (JSON-like) with `change` applied to every string in it, however deep."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    if isinstance(value, dict):
        return {key: map_strings(item, change) for key, item in value.items()}
    return value


def sync_files(client: WorkspaceClient, bundle_root: Path, file_path: str) -> int:
    """Upload the bundle's files under `file_path` and delete the remote ones no longer here."""
    from databricks.sdk.errors import NotFound
    from lakehouse_standins.databricks.workspace import notebook_language

    api = client.api_client
    files = bundle_files(bundle_root)
    wanted = set()
    for file in files:
        relative = file.relative_to(bundle_root).as_posix()
        content = file.read_bytes()
        _upload(api, f"{file_path}/{relative}", content)
        # A workspace names an imported notebook without its extension.
        wanted.add(relative.removesuffix(file.suffix) if notebook_language(relative, content) else relative)
    try:
        # Recursive listing yields files and notebooks only, never folders.
        remote = [o.path or "" for o in client.workspace.list(file_path, recursive=True)]
    except NotFound:
        remote = []
    prefix = file_path.removeprefix("/Workspace").rstrip("/") + "/"
    for path in remote:
        if path.removeprefix("/Workspace").removeprefix(prefix) not in wanted:
            client.workspace.delete(path)
    return len(files)


def deploy(
    client: WorkspaceClient,
    built: dict[str, Any],
    *,
    bundle: str,
    target: str,
    bundle_root: Path | None = None,
    root_path: str | None = None,
) -> DeployResult:
    """Deploy `built` (build_resources' output for `target`); with `bundle_root` and `root_path`,
    build and upload the wheel and sync the files first, as the CLI does."""
    result = DeployResult()
    resources = built["resources"]
    if bundle_root is not None and root_path is not None:
        wheel = build_wheel(bundle_root)
        remote_wheel = f"{root_path}/artifacts/.internal/{wheel.name}"
        _upload(client.api_client, remote_wheel, wheel.read_bytes())
        local_forms = (WHEEL_GLOB, f"./{WHEEL_GLOB}")
        resources = map_strings(resources, lambda text: remote_wheel if text in local_forms else text)
        result.files = sync_files(client, bundle_root, f"{root_path}/files")
    _deploy_jobs(client, resources.get("jobs") or {}, bundle, target, result)
    _deploy_pipelines(client, resources.get("pipelines") or {}, bundle, target, result)
    return result


def _deploy_jobs(
    client: WorkspaceClient, jobs: dict[str, Any], bundle: str, target: str, result: DeployResult
) -> None:
    api = client.api_client
    wanted = {settings["name"]: settings for settings in jobs.values()}
    for name, settings in wanted.items():
        found = list(client.jobs.list(name=name))
        if not found:
            api.do("POST", "/api/2.2/jobs/create", body=settings)
            result.created.append(name)
            continue
        job_id = found[0].job_id
        current = api.do("GET", "/api/2.2/jobs/get", query={"job_id": job_id})
        if isinstance(current, dict) and current.get("settings") == settings:
            result.unchanged.append(name)
        else:
            api.do("POST", "/api/2.2/jobs/reset", body={"job_id": job_id, "new_settings": settings})
            result.updated.append(name)
    for job in client.jobs.list():
        settings = job.settings
        if settings and settings.name not in wanted and _owned(settings.tags, bundle, target):
            client.jobs.delete(job.job_id or 0)
            result.deleted.append(settings.name or str(job.job_id))


def _deploy_pipelines(
    client: WorkspaceClient, pipelines: dict[str, Any], bundle: str, target: str, result: DeployResult
) -> None:
    api = client.api_client
    wanted = {spec["name"]: spec for spec in pipelines.values()}
    for name, spec in wanted.items():
        quoted = name.replace("'", "''")
        found = [p for p in client.pipelines.list_pipelines(filter=f"name LIKE '{quoted}'") if p.name == name]
        if not found:
            api.do("POST", "/api/2.0/pipelines", body=spec)
            result.created.append(name)
            continue
        pipeline_id = found[0].pipeline_id or ""
        current = api.do("GET", f"/api/2.0/pipelines/{pipeline_id}")
        current_spec = (
            {k: v for k, v in (current.get("spec") or {}).items() if k != "id"}
            if isinstance(current, dict)
            else {}
        )
        if current_spec == spec:
            result.unchanged.append(name)
        else:
            api.do("PUT", f"/api/2.0/pipelines/{pipeline_id}", body={**spec, "pipeline_id": pipeline_id})
            result.updated.append(name)
    for status in client.pipelines.list_pipelines():
        if status.name in wanted or not status.pipeline_id:
            continue
        pipeline = client.pipelines.get(status.pipeline_id)
        if _owned(pipeline.spec.tags if pipeline.spec else None, bundle, target):
            client.pipelines.delete(status.pipeline_id)
            result.deleted.append(status.name or status.pipeline_id)
