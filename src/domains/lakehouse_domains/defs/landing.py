"""Landing Volumes as external assets, reported by a file-arrival sensor.

Each bundle pipeline reads its raw feeds from the landing Volume of its domain and source (the
target's `landing_root` variable, `data_ops.pipelines.landing_path`). That Volume is an external
asset, `<domain>/<source>/landing` (`landing_key`): no Dagster run writes it, the
feeds' producers do. The pipelines' root tables depend on it, so their automation conditions run
them once new files land. The sensor `domains_landing_files` lists every landing Volume through the
Files API and reports an `AssetMaterialization` of a Volume whose listing changed (names, sizes,
modification times, folded into a digest kept in the cursor).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg
from lakehouse_resources.databricks import LakehouseDatabricksClient
from lakehouse_resources.platform.specs import SpecSet
from lakehouse_resources.platform.targets import BundleTarget

if TYPE_CHECKING:
    from databricks.sdk.service.files import FilesAPI

LANDING_SENSOR = "domains_landing_files"
KINDS = {"databricks", "volume"}


def landing_key(domain: str, source: str) -> dg.AssetKey:
    return dg.AssetKey([domain, source, "landing"])


@dataclass(frozen=True)
class LandingVolume:
    domain: str
    source: str
    path: str  # the Volume folder, e.g. /Volumes/member/enrollment/landing

    @property
    def key(self) -> dg.AssetKey:
        return landing_key(self.domain, self.source)


def landing_path(target: BundleTarget, domain: str, source: str) -> str:
    """The folder `data_ops.pipelines.landing_path` reads feeds under, on this target."""
    return str(target.variables["landing_root"]).format(domain=domain, source=source)


def landing_volumes(specs: SpecSet, target: BundleTarget) -> list[LandingVolume]:
    """One per (domain, source) with a pipeline whose table has no upstream table: it reads landed files."""
    reading = {
        (spec.name.domain, spec.name.source)
        for spec in specs.pipelines
        for dataset in spec.spec.datasets
        if not specs.dependencies(specs.table(spec.table_name(dataset)))
    }
    return [LandingVolume(d, s, landing_path(target, d, s)) for d, s in sorted(reading)]


def landing_asset(volume: LandingVolume) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=volume.key,
        group_name=volume.domain,
        kinds=KINDS,
        tags={"layer": "landing", "source": volume.source},
        description=(
            f"Raw feeds of {volume.domain}/{volume.source} as they land in {volume.path}; reported by"
            f" the sensor {LANDING_SENSOR} when its files change."
        ),
        metadata={"volume": volume.path},
    )


@dataclass(frozen=True)
class LandedFile:
    path: str  # relative to the Volume folder
    size: int
    modified_ms: int


def list_landed(files: FilesAPI, root: str) -> list[LandedFile]:
    """Every file under `root`, recursively; a folder not created yet holds none."""
    from databricks.sdk.errors import NotFound

    def walk(folder: str, prefix: str) -> Iterator[LandedFile]:
        try:
            entries = list(files.list_directory_contents(folder))
        except NotFound:
            return
        for entry in entries:
            name = entry.name or (entry.path or "").rstrip("/").rsplit("/", 1)[-1]
            if entry.is_directory:
                yield from walk(f"{folder.rstrip('/')}/{name}", f"{prefix}{name}/")
            else:
                yield LandedFile(f"{prefix}{name}", entry.file_size or 0, entry.last_modified or 0)

    return sorted(walk(root, ""), key=lambda f: f.path)


def listing_digest(landed: Sequence[LandedFile]) -> str:
    text = json.dumps([[f.path, f.size, f.modified_ms] for f in landed], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def landing_report(
    cursor: str | None, listings: dict[LandingVolume, list[LandedFile]]
) -> tuple[list[dg.AssetMaterialization], str]:
    """Materializations of the Volumes whose listing changed since the cursor, and the new cursor.

    An empty Volume that was never seen with files is not reported: nothing landed yet."""
    seen: dict[str, str] = json.loads(cursor) if cursor else {}
    events = []
    digests = dict(seen)
    for volume, landed in listings.items():
        digest = listing_digest(landed)
        name = volume.key.to_user_string()
        if seen.get(name, listing_digest([])) == digest:
            continue
        digests[name] = digest
        events.append(
            dg.AssetMaterialization(
                asset_key=volume.key,
                description=f"{len(landed)} file(s) in {volume.path}",
                metadata={
                    "volume": volume.path,
                    "files": len(landed),
                    "bytes": sum(f.size for f in landed),
                    "latest_modified_ms": max((f.modified_ms for f in landed), default=0),
                    "listing_digest": digest,
                },
            )
        )
    return events, json.dumps(digests, sort_keys=True)


def landing_sensor(volumes: Sequence[LandingVolume]) -> dg.SensorDefinition:
    """Reports each landing Volume whose files changed. On by default everywhere: Dagster is the one
    scheduler of the bundle's work (docs/operations.md), and locally `task dev`'s deploy uploads the
    sample feeds, so automation then runs the domains."""

    @dg.sensor(
        name=LANDING_SENSOR,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Lists the landing Volumes (Files API) and reports a materialization of each whose files"
            f" changed: {', '.join(v.path for v in volumes)}."
        ),
    )
    def _sensor(
        context: dg.SensorEvaluationContext, databricks_workspace: LakehouseDatabricksClient
    ) -> dg.SensorResult | dg.SkipReason:
        if reason := databricks_workspace.unreachable():
            return dg.SkipReason(f"Landing Volumes not listed. {reason}")
        files = databricks_workspace.workspace_client().files
        events, cursor = landing_report(context.cursor, {v: list_landed(files, v.path) for v in volumes})
        if not events:
            return dg.SensorResult(
                skip_reason=f"No new files in {len(volumes)} landing Volume(s)", cursor=cursor
            )
        return dg.SensorResult(asset_events=events, cursor=cursor)

    return _sensor
