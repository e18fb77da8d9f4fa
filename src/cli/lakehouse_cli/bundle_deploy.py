"""Register the bundle's generated jobs and pipelines with a workspace, as `databricks bundle deploy` does.

Each resource is found by its deployed name: created when missing, replaced (jobs `reset`, pipelines
edit) when its settings changed, left alone otherwise; jobs and pipelines tagged as this bundle's
deployment to this target that the bundle no longer generates are deleted. Whether a resource
changed is read from the `lakehouse_settings_hash` tag it was deployed with, so a second deploy of
the same bundle changes nothing and a workspace's own defaults never count as a change.

Locally the workspace is the Databricks stand-in; on a real workspace use the Databricks CLI.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

HASH_TAG = "lakehouse_settings_hash"


@dataclass
class DeployResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        parts = [
            f"{len(getattr(self, name))} {name}" for name in ("created", "updated", "unchanged", "deleted")
        ]
        return "bundle deploy: " + ", ".join(parts)


def with_hash(settings: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return {**settings, "tags": {**(settings.get("tags") or {}), HASH_TAG: digest}}


def _owned(tags: dict[str, str] | None, bundle: str, target: str) -> bool:
    tags = tags or {}
    return tags.get("lakehouse_bundle") == bundle and tags.get("lakehouse_target") == target


def deploy(client: WorkspaceClient, built: dict[str, Any], *, bundle: str, target: str) -> DeployResult:
    result = DeployResult()
    resources = built["resources"]
    _deploy_jobs(client, resources.get("jobs") or {}, bundle, target, result)
    _deploy_pipelines(client, resources.get("pipelines") or {}, bundle, target, result)
    return result


def _deploy_jobs(
    client: WorkspaceClient, jobs: dict[str, Any], bundle: str, target: str, result: DeployResult
) -> None:
    api = client.api_client
    wanted = {settings["name"]: with_hash(settings) for settings in jobs.values()}
    for name, settings in wanted.items():
        found = list(client.jobs.list(name=name))
        if not found:
            api.do("POST", "/api/2.2/jobs/create", body=settings)
            result.created.append(name)
            continue
        job = found[0]
        current = (job.settings.tags if job.settings else None) or {}
        if current.get(HASH_TAG) == settings["tags"][HASH_TAG]:
            result.unchanged.append(name)
        else:
            api.do("POST", "/api/2.2/jobs/reset", body={"job_id": job.job_id, "new_settings": settings})
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
    wanted = {spec["name"]: with_hash(spec) for spec in pipelines.values()}
    for name, spec in wanted.items():
        quoted = name.replace("'", "''")
        found = [p for p in client.pipelines.list_pipelines(filter=f"name LIKE '{quoted}'") if p.name == name]
        if not found:
            api.do("POST", "/api/2.0/pipelines", body=spec)
            result.created.append(name)
            continue
        pipeline_id = found[0].pipeline_id or ""
        current = client.pipelines.get(pipeline_id)
        tags = (current.spec.tags if current.spec else None) or {}
        if tags.get(HASH_TAG) == spec["tags"][HASH_TAG]:
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
