"""Seed 004's deployment scope: which bundle resources a change touches.

Given the changed files (paths relative to the repository, as `git diff --name-only` prints them),
answer the jobs and pipelines a deploy must update. A change to what every resource is generated
from (databricks.yml, a target, the generator, the naming policy, shared pipeline code, or a spec
that no longer loads) touches everything; a spec touches its own resource; source code touches the
resources that deploy it, and a module beside them (imported, not listed) every resource of that
domain and source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from lakehouse_resources.platform.specs import SpecSet
from lakehouse_resources.platform.targets import BUNDLE_DIR

# Everything in the bundle is generated through these; the policy lives in the shared package.
_GLOBAL = (
    f"{BUNDLE_DIR}/databricks.yml",
    f"{BUNDLE_DIR}/targets/",
    f"{BUNDLE_DIR}/resources/",
    "src/data_ops/",  # the library every job and pipeline runs with
    "src/resources/lakehouse_resources/platform/",
)


@dataclass(frozen=True)
class DeploymentScope:
    everything: bool
    jobs: list[str] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "everything": self.everything,
            "jobs": self.jobs,
            "pipelines": self.pipelines,
            "reasons": self.reasons,
        }


def _is_under(path: str, prefix: str) -> bool:
    return path == prefix.rstrip("/") or path.startswith(prefix if prefix.endswith("/") else prefix + "/")


def deployment_scope(specs: SpecSet, changed: Iterable[str]) -> DeploymentScope:
    reasons: dict[str, list[str]] = {}
    everything: list[str] = []

    def touch(key: str, why: str) -> None:
        reasons.setdefault(key, [])
        if why not in reasons[key]:
            reasons[key].append(why)

    for raw in changed:
        path = str(PurePosixPath(raw.strip()))
        if not raw.strip():
            continue
        if any(_is_under(path, prefix) for prefix in _GLOBAL):
            everything.append(path)
            continue
        if not _is_under(path, BUNDLE_DIR):
            continue
        inner = path.removeprefix(f"{BUNDLE_DIR}/")
        if inner.startswith("specs/"):
            owners = [spec for spec in specs.specs if str(spec.path) == inner]
            if not owners:
                # A removed or renamed spec: its resource must go, and its old key is not
                # knowable from the path alone (the layer is inside the file).
                everything.append(path)
            for spec in owners:
                touch(spec.key, path)
        elif inner.startswith("src/"):
            listed = [s for s in specs.specs if any(_is_under(inner, src) for src in s.source_paths())]
            parts = PurePosixPath(inner).parts
            neighbours = [
                s
                for s in specs.specs
                if len(parts) > 3 and (s.name.domain, s.name.source) == (parts[1], parts[2])
            ]
            for spec in listed or neighbours:
                touch(spec.key, path)
    if everything:
        keys = [spec.key for spec in specs.specs]
        return DeploymentScope(
            True,
            sorted(s.key for s in specs.jobs),
            sorted(s.key for s in specs.pipelines),
            {key: sorted(everything) for key in keys},
        )
    kinds = {spec.key: spec.kind for spec in specs.specs}
    return DeploymentScope(
        False,
        sorted(k for k in reasons if kinds[k] == "jobs"),
        sorted(k for k in reasons if kinds[k] == "pipelines"),
        {k: sorted(v) for k, v in sorted(reasons.items())},
    )
