"""What a task's Python can import: the runtime (PySpark) and what the task declares, nothing more.

On Databricks a task sees the runtime's packages plus the libraries it declares: cluster `libraries`
(`pypi`, `whl`), a serverless environment's `dependencies`, or a notebook's `%pip install` cell.
The stand-in builds the same for each task as a list of folders for `sys.path`: one per distribution,
holding links to that distribution's top-level modules and its metadata. A wheel the task names is
read from the workspace (where a deploy uploaded it) and unpacked once; a PyPI requirement is served
from the stand-in's own environment, which has no registry to install from: a package or version it
does not have fails the task as a failed library installation does.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import re
import sys
import threading
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lakehouse_standins.databricks.tasks import LaunchError
from lakehouse_standins.databricks.workspace import Workspace

# What a Databricks runtime brings: PySpark with Spark Connect (serverless compute is Connect).
RUNTIME = ("pyspark[connect]",)
_MARKER_ENVIRONMENT: dict[str, str] = {k: str(v) for k, v in default_environment().items()}


def _markers(extra: str) -> dict[str, str]:
    return {**_MARKER_ENVIRONMENT, "extra": extra}


_PIP_CELL = re.compile(r"^#\s*MAGIC\s+%pip\s+install\s+(?P<args>.+)$", re.MULTILINE)


def _install_failed(message: str) -> LaunchError:
    return LaunchError(f"Library installation failed: {message}", "LIBRARY_INSTALLATION_ERROR")


def notebook_requirements(source: str) -> list[str]:
    """The requirements a notebook's `%pip install` cells name (options such as `-q` left out)."""
    found = []
    for match in _PIP_CELL.finditer(source):
        found += [arg for arg in match.group("args").split() if not arg.startswith("-")]
    return found


def declared_libraries(task: Mapping[str, Any], environments: Mapping[str, Any]) -> list[str]:
    """A task's declared libraries as requirement strings or wheel paths."""
    declared: list[str] = []
    for library in task.get("libraries") or []:
        if "pypi" in library:
            declared.append(str(library["pypi"].get("package", "")))
        elif "whl" in library:
            declared.append(str(library["whl"]))
        else:
            raise _install_failed(f"the stand-in installs pypi and whl libraries, not {sorted(library)}")
    key = task.get("environment_key")
    if key is not None:
        spec = (environments.get(key) or {}).get("spec") or {}
        declared += [str(d) for d in spec.get("dependencies") or []]
    return declared


class Environments:
    """Per-task import paths, with unpacked wheels and distribution folders cached under `root`."""

    def __init__(self, root: Path, workspace: Workspace) -> None:
        self.root = root
        self.workspace = workspace
        self._lock = threading.Lock()

    def sys_path(self, declared: Iterable[str]) -> list[str]:
        """The interpreter's standard library, then the runtime, then what the task declares."""
        with self._lock:
            folders: dict[str, Path] = {}
            for requirement in RUNTIME:
                self._add_requirement(Requirement(requirement), folders)
            for entry in declared:
                if entry.endswith(".whl"):
                    self._add_wheel(entry, folders)
                else:
                    try:
                        requirement = Requirement(entry)
                    except InvalidRequirement:
                        raise _install_failed(f"{entry!r} is not a requirement or a wheel") from None
                    self._add_requirement(requirement, folders)
            return [*stdlib_paths(), *(str(folder) for folder in folders.values())]

    # --- distributions of the stand-in's own environment ---
    def _add_requirement(self, requirement: Requirement, folders: dict[str, Path]) -> None:
        name = canonicalize_name(requirement.name)
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise _install_failed(f"{requirement} is not available here") from None
        if requirement.specifier and not requirement.specifier.contains(dist.version, prereleases=True):
            raise _install_failed(
                f"{requirement} is not available here (only {requirement.name} {dist.version})"
            )
        if name not in folders:
            folders[name] = self._distribution_folder(dist)
        self._add_dependencies(dist.requires or [], requirement.extras, folders)

    def _add_dependencies(
        self, requires: Iterable[str], extras: Iterable[str], folders: dict[str, Path]
    ) -> None:
        for line in requires:
            dependency = Requirement(line)
            marker = dependency.marker
            wanted = marker is None or any(marker.evaluate(_markers(extra)) for extra in ["", *extras])
            if wanted and canonicalize_name(dependency.name) not in folders:
                self._add_requirement(dependency, folders)

    def _distribution_folder(self, dist: metadata.Distribution) -> Path:
        name = canonicalize_name(dist.metadata["Name"])
        folder = self.root / "dists" / f"{name}-{dist.version}"
        if folder.exists():
            return folder
        base = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        staging = folder.with_name(folder.name + ".tmp")
        staging.mkdir(parents=True, exist_ok=True)
        for top in sorted(tops):
            source = base / top
            link = staging / top
            if top.endswith(".pth") or top == "__pycache__" or not source.exists() or link.exists():
                continue
            link.symlink_to(source)
        staging.rename(folder)
        return folder

    # --- wheels from the workspace ---
    def _add_wheel(self, path: str, folders: dict[str, Path]) -> None:
        local = self.workspace.runnable(path)
        if local is None:
            raise _install_failed(
                f"the wheel {path} does not exist in the workspace (is the bundle deployed?)"
            )
        content = local.read_bytes()
        folder = self.root / "wheels" / hashlib.sha256(content).hexdigest()[:16]
        if not folder.exists():
            staging = folder.with_name(folder.name + ".tmp")
            with zipfile.ZipFile(local) as wheel:
                wheel.extractall(staging)
            staging.rename(folder)
        (info,) = folder.glob("*.dist-info")
        dist = metadata.PathDistribution(info)
        folders[canonicalize_name(dist.metadata["Name"])] = folder
        self._add_dependencies(dist.requires or [], (), folders)


def stdlib_paths() -> list[str]:
    """The standard library of this interpreter: what `python -I -S` starts with, no site-packages."""
    base = sys.base_prefix
    return [p for p in sys.path if p.startswith(base) and "site-packages" not in p]
