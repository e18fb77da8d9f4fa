"""The bundle's targets overlay (`databricks/targets/*.yml`), read the way the Databricks CLI merges it.

Per-target settings are bundle variables: `databricks.yml` declares them with their defaults and each
target's overlay overrides some. The generator receives them as `bundle.variables`; Dagster and the
Spark code read the same values through `load_bundle`, so a catalog rule is written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lakehouse_resources.platform.naming import NamespaceRule, ResourceName, TableName

BUNDLE_DIR = "databricks"
# Bundle variables that hold the namespace rule (see NamespaceRule).
NAMESPACE_VARIABLES = {
    "catalog": "namespace_catalog",
    "schema": "namespace_schema",
    "table": "namespace_table",
}


# The catalog the warehouse tools (dbt, Sling, dlt) write on a target, a bundle variable per target.
WAREHOUSE_CATALOG = "warehouse_catalog"


class BundleConfigError(ValueError):
    """databricks.yml or a targets overlay that cannot be read; the message names the file."""


@dataclass(frozen=True)
class BundleTarget:
    name: str
    bundle_name: str
    variables: dict[str, str]
    root_path: str
    host: str | None = None
    default: bool = False
    mode: str | None = None  # development | production | None
    presets: dict[str, Any] = field(default_factory=dict)

    @property
    def namespace(self) -> NamespaceRule:
        return NamespaceRule(**{part: self.variables[var] for part, var in NAMESPACE_VARIABLES.items()})

    def table_name(self, name: ResourceName) -> TableName:
        """The one rule for where a spec's table lives on this target: the bundle's parameters,
        Dagster's metadata and the stand-in all take it from here."""
        return self.namespace.resolve(name, self.name)

    @property
    def warehouse_catalog(self) -> str:
        """The catalog dbt, Sling and dlt write on this target (`main` locally, `<env>_catalog`)."""
        return self.variables[WAREHOUSE_CATALOG]

    def warehouse_table(self, schema: str, table: str) -> TableName:
        """A warehouse table (`marts.customers`) as Spark code names it on this target: as it is on
        a workspace; placed by the namespace rule where Spark has one catalog (open-source Spark)."""
        from lakehouse_resources.platform.parameters import warehouse_table

        return warehouse_table(self.namespace, self.warehouse_catalog, schema, table, self.name)

    @property
    def file_path(self) -> str:
        """`${workspace.file_path}`: where a deploy uploads the bundle's files."""
        return f"{self.root_path}/files"

    def interpolate(self, text: str, user_name: str | None = None) -> str:
        """Resolve the `${...}` references a bundle's resources may carry for this target.

        `${workspace.current_user.*}` needs the deploying user's name; without one it stays as the
        reference (the CLI fills it in from the workspace)."""
        known = {
            "bundle.name": self.bundle_name,
            "bundle.target": self.name,
            "workspace.root_path": self.root_path,
            "workspace.file_path": self.file_path,
            "workspace.state_path": f"{self.root_path}/state",
            "workspace.artifact_path": f"{self.root_path}/artifacts",
            **{f"var.{name}": value for name, value in self.variables.items()},
        }
        if user_name:
            known["workspace.current_user.userName"] = user_name
            known["workspace.current_user.short_name"] = short_user_name(user_name)

        def substitute(match: re.Match[str]) -> str:
            ref = match.group(1)
            if ref in known:
                return self.interpolate(known[ref], user_name)
            if ref.startswith("workspace.current_user."):
                return match.group(0)
            raise BundleConfigError(f"target {self.name}: unknown reference ${{{ref}}}")

        return re.sub(r"\$\{([\w.]+)\}", substitute, text)


def short_user_name(user_name: str) -> str:
    """`${workspace.current_user.short_name}` as the CLI derives it: the part before `@`, lower
    case, runs of anything but letters and digits made one `_`, trimmed."""
    local = user_name.split("@", 1)[0].lower()
    return re.sub(r"[^a-z0-9]+", "_", local).strip("_")


@dataclass(frozen=True)
class BundleConfig:
    root: Path
    name: str
    targets: dict[str, BundleTarget] = field(default_factory=dict)
    python_resources: tuple[str, ...] = ()

    def target(self, name: str) -> BundleTarget:
        if name not in self.targets:
            raise BundleConfigError(
                f"{self.root / 'databricks.yml'}: no target {name!r} (targets: {', '.join(sorted(self.targets))})"
            )
        return self.targets[name]


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BundleConfigError(f"{path}: {exc}") from None
    if not isinstance(document, dict):
        raise BundleConfigError(f"{path}: expected a mapping at the top")
    return document


def load_bundle(root: Path) -> BundleConfig:
    """databricks.yml plus every file its `include:` names, with each target's variables resolved."""
    main_file = root / "databricks.yml"
    document = _read(main_file)
    name = str((document.get("bundle") or {}).get("name") or "")
    if not name:
        raise BundleConfigError(f"{main_file}: bundle.name is required")
    defaults: dict[str, str] = {}
    for var, spec in (document.get("variables") or {}).items():
        default = spec.get("default") if isinstance(spec, dict) else spec
        if default is not None:
            defaults[var] = str(default)
    missing = [var for var in (*NAMESPACE_VARIABLES.values(), WAREHOUSE_CATALOG) if var not in defaults]
    if missing:
        raise BundleConfigError(f"{main_file}: variables {', '.join(missing)} need a default")
    raw_targets: dict[str, tuple[Path, dict[str, Any]]] = {}
    included = [main_file]
    for pattern in document.get("include") or []:
        included += sorted(root.glob(pattern))
    for path in included:
        for target, body in (_read(path).get("targets") or {}).items():
            if target in raw_targets:
                raise BundleConfigError(
                    f"{path}: target {target!r} is also defined in {raw_targets[target][0]}"
                )
            raw_targets[target] = (path, body or {})
    targets = {}
    for target, (path, body) in raw_targets.items():
        overrides = {var: str(value) for var, value in (body.get("variables") or {}).items()}
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise BundleConfigError(f"{path}: target {target} sets undeclared variables {', '.join(unknown)}")
        workspace = body.get("workspace") or {}
        # The CLI's default: the deploying user's own folder.
        default_root = (
            "/Workspace/Users/${workspace.current_user.userName}/.bundle/${bundle.name}/${bundle.target}"
        )
        root_path = str(workspace.get("root_path") or default_root).replace(
            "~/", "/Workspace/Users/${workspace.current_user.userName}/", 1
        )
        root_path = root_path.replace("${bundle.name}", name).replace("${bundle.target}", target)
        targets[target] = BundleTarget(
            name=target,
            bundle_name=name,
            variables={**defaults, **overrides},
            root_path=root_path,
            host=workspace.get("host"),
            default=bool(body.get("default")),
            mode=body.get("mode"),
            presets=dict(body.get("presets") or {}),
        )
    python = document.get("python") or {}
    return BundleConfig(root, name, targets, tuple(python.get("resources") or ()))


@cache
def bundle_for(root: Path) -> BundleConfig:
    """The repository's bundle (`<root>/databricks`), read once per process."""
    return load_bundle(root / BUNDLE_DIR)
