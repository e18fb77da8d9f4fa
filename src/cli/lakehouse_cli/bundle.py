"""`lakehouse bundle build|scope|deploy`: the Databricks bundle without the Databricks CLI.

`build` runs the bundle's Python resources exactly as `databricks bundle validate` does (the
databricks-bundles library's `load_resources` phase, in the bundle folder, with the target's
variables), resolves the `${...}` references the CLI would, and prints the resources in the shape of
`databricks bundle validate -o json`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse_resources.platform.targets import BundleConfig, BundleTarget, load_bundle

if TYPE_CHECKING:
    from lakehouse_resources.settings import LakehouseSettings

    from lakehouse_cli.bundle_deploy import DeployResult


class BundleBuildError(RuntimeError):
    """The bundle's resources could not be generated; the message carries every diagnostic."""


def _interpolate(value: Any, target: BundleTarget) -> Any:
    if isinstance(value, str):
        return target.interpolate(value)
    if isinstance(value, list):
        return [_interpolate(item, target) for item in value]
    if isinstance(value, dict):
        return {key: _interpolate(item, target) for key, item in value.items()}
    return value


def build_resources(bundle_root: Path, target_name: str, *, spec: Path | None = None) -> dict[str, Any]:
    """`{"resources": {"jobs": {...}, "pipelines": {...}}}` for one target (or one spec's resource)."""
    config = load_bundle(bundle_root)
    target = config.target(target_name)
    generated = _run_python_resources(config, target)
    resources = _interpolate(generated.get("resources") or {}, target)
    jobs, pipelines = resources.get("jobs") or {}, resources.get("pipelines") or {}
    if spec is not None:
        key = _spec_key(bundle_root, spec)
        jobs = {k: v for k, v in jobs.items() if k == key}
        pipelines = {k: v for k, v in pipelines.items() if k == key}
    return {"resources": {"jobs": jobs, "pipelines": pipelines}}


def _spec_key(bundle_root: Path, spec: Path) -> str:
    from lakehouse_resources.platform.specs import load_specs

    path = spec if spec.is_absolute() else Path.cwd() / spec
    if not path.exists() and (bundle_root / spec).exists():
        path = bundle_root / spec
    (chosen,) = load_specs(bundle_root, only=path.resolve()).specs
    return chosen.key


def _run_python_resources(config: BundleConfig, target: BundleTarget) -> dict[str, Any]:
    bundle_input = {
        "bundle": {"name": config.name, "target": target.name},
        "variables": {name: {"value": value} for name, value in target.variables.items()},
        "python": {"resources": list(config.python_resources)},
    }
    with tempfile.TemporaryDirectory(prefix="lakehouse-bundle-") as tmp:
        folder = Path(tmp)
        (folder / "input.json").write_text(json.dumps(bundle_input), encoding="utf-8")
        command = [sys.executable, "-m", "databricks.bundles.build", "--phase", "load_resources"]
        for name in ("input", "output", "diagnostics", "locations"):
            command += [f"--{name}", str(folder / f"{name}.json")]
        done = subprocess.run(command, cwd=config.root, capture_output=True, text=True, check=False)
        diagnostics = _diagnostics(folder / "diagnostics.json")
        errors = [d for d in diagnostics if d.get("severity") == "error"]
        if errors or done.returncode != 0:
            lines = [_describe(d) for d in errors] or [done.stderr.strip()[-2000:]]
            raise BundleBuildError("\n".join(lines))
        return json.loads((folder / "output.json").read_text(encoding="utf-8"))


def _diagnostics(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _describe(diagnostic: dict[str, Any]) -> str:
    detail = str(diagnostic.get("detail") or "").strip()
    summary = str(diagnostic.get("summary") or "")
    # An exception's traceback says little to someone fixing a spec; its last line says what.
    return summary if not detail else f"{summary}: {detail.splitlines()[-1]}"


def add_commands(commands: Any) -> None:
    """`lakehouse bundle build|scope|deploy` (registered by main.py)."""
    import argparse

    bundle = commands.add_parser("bundle", help="build, scope or deploy the Databricks bundle (databricks/)")
    actions = bundle.add_subparsers(dest="bundle_command", required=True)
    build = actions.add_parser(
        "build", help="print the generated jobs and pipelines as `bundle validate -o json`"
    )
    build.add_argument("--target", "-t", default="dev")
    build.add_argument("--spec", type=Path, help="only the resource of this spec file")
    build.set_defaults(func=_build_command)
    deploy = actions.add_parser("deploy", help="register the generated resources with the local stand-in")
    deploy.add_argument("--target", "-t", default="local")
    deploy.set_defaults(func=_deploy_command)
    scope = actions.add_parser("scope", help="the resources a deploy must touch for the changed files")
    scope.add_argument("files", nargs="*", help="changed files, relative to the repository (default: stdin)")
    scope.set_defaults(func=_scope_command)
    _ = argparse  # the parsers above are argparse's; kept local so importing main stays cheap


def _bundle_root() -> Path:
    from lakehouse_resources.settings import get_settings

    return get_settings().root / "databricks"


def _build_command(args: Any) -> int:
    try:
        built = build_resources(_bundle_root(), args.target, spec=args.spec)
    except (BundleBuildError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(built, indent=2))
    return 0


def _scope_command(args: Any) -> int:
    from lakehouse_resources.platform.scope import deployment_scope
    from lakehouse_resources.platform.specs import SpecError, load_specs

    files = args.files or sys.stdin.read().split()
    try:
        specs = load_specs(_bundle_root())
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(deployment_scope(specs, files).as_json(), indent=2))
    return 0


def deploy_local(settings: LakehouseSettings, target: str = "local") -> DeployResult:
    """Deploy the bundle to the workspace the settings name (the stand-in locally) and seed the
    local sample feeds; what `task dev` and `task pipeline` do before they start."""
    from lakehouse_resources.databricks import databricks_client_from_settings

    from lakehouse_cli.bundle_deploy import deploy

    root = settings.root / "databricks"
    built = build_resources(root, target)
    client = databricks_client_from_settings(settings).workspace_client()
    result = deploy(client, built, bundle=load_bundle(root).name, target=target)
    if target == "local":
        upload_sample_feeds(client, root, load_bundle(root).target(target))
    return result


def deploy_before_run(settings: LakehouseSettings) -> str | None:
    """`task dev` / `task pipeline`: deploy the bundle to the local stand-in first, so the domains
    location finds its jobs and pipelines by name as it would on a workspace; None elsewhere."""
    if not settings.uses_databricks_standin:
        return None
    return deploy_local(settings).summary()


def upload_sample_feeds(client: Any, root: Path, target: BundleTarget) -> list[str]:
    """`databricks/fixtures/<domain>/<source>/<feed>/*` into the landing Volume, where still empty."""
    from databricks.sdk.errors import NotFound

    uploaded = []
    fixtures = root / "fixtures"
    for feed in sorted(p for p in fixtures.glob("*/*/*") if p.is_dir()):
        domain, source = feed.parent.parent.name, feed.parent.name
        landing = target.variables["landing_root"].format(domain=domain, source=source)
        folder = f"{landing}/{feed.name}"
        try:
            if list(client.files.list_directory_contents(folder)):
                continue
        except NotFound:
            pass
        for file in sorted(feed.iterdir()):
            with open(file, "rb") as contents:
                client.files.upload(f"{folder}/{file.name}", contents, overwrite=True)
            uploaded.append(f"{folder}/{file.name}")
    return uploaded


def _deploy_command(args: Any) -> int:
    from lakehouse_resources.settings import get_settings

    settings = get_settings()
    if args.target != "local" or not settings.is_local:
        print(
            "lakehouse bundle deploy registers the bundle with the local stand-in (--target local,"
            f" LAKEHOUSE_ENV=local); for {args.target} run `databricks bundle deploy -t {args.target}`"
            " in databricks/ (CI does).",
            file=sys.stderr,
        )
        return 2
    from lakehouse_standins.local import port_answers

    if not port_answers(settings.databricks_standin_port):
        print(
            f"No Databricks stand-in answers on {settings.databricks_standin_url}: start it with"
            " `uv run task dev` (which deploys the bundle itself) and deploy again.",
            file=sys.stderr,
        )
        return 1
    try:
        result = deploy_local(settings)
    except (BundleBuildError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(result.summary())
    return 0
