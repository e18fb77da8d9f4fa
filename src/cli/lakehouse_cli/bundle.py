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

from lakehouse_cli.bundle_deploy import map_strings

if TYPE_CHECKING:
    from lakehouse_resources.settings import LakehouseSettings


class BundleBuildError(RuntimeError):
    """The bundle's resources could not be generated; the message carries every diagnostic."""


def build_resources(
    bundle_root: Path, target_name: str, *, spec: Path | None = None, user_name: str | None = None
) -> dict[str, Any]:
    """`{"resources": {"jobs": {...}, "pipelines": {...}}}` for one target (or one spec's resource),
    as `databricks bundle validate -o json` shows them: with the CLI's defaults and the target's mode
    and presets applied. `user_name` is the deploying user (the CLI asks the workspace); without it
    `${workspace.current_user.*}` references stay unresolved."""
    config = load_bundle(bundle_root)
    target = config.target(target_name)
    generated = _run_python_resources(config, target)
    resources = map_strings(
        generated.get("resources") or {}, lambda text: target.interpolate(text, user_name)
    )
    jobs, pipelines = resources.get("jobs") or {}, resources.get("pipelines") or {}
    apply_cli_defaults(jobs, pipelines, target, user_name)
    if spec is not None:
        key = _spec_key(bundle_root, spec)
        jobs = {k: v for k, v in jobs.items() if k == key}
        pipelines = {k: v for k, v in pipelines.items() if k == key}
    return {"resources": {"jobs": jobs, "pipelines": pipelines}}


def _pip_path(dependency: str) -> str:
    """A local file in an environment's dependencies, as the CLI writes it for pip: `./dist/x.whl`."""
    local = dependency.endswith(".whl") and "://" not in dependency and not dependency.startswith(("/", "."))
    return f"./{dependency}" if local else dependency


def apply_cli_defaults(
    jobs: dict[str, Any], pipelines: dict[str, Any], target: BundleTarget, user_name: str | None
) -> None:
    """What the Databricks CLI adds to every job and pipeline before it deploys them: the deployment
    marker, its defaults, and the target's presets (`mode: development` implies some)."""
    from lakehouse_resources.platform.targets import short_user_name

    deployment = {
        "kind": "BUNDLE",
        "metadata_file_path": f"{target.interpolate('${workspace.state_path}', user_name)}/metadata.json",
    }
    presets = dict(target.presets)
    if target.mode == "development":
        short = short_user_name(user_name) if user_name else "${workspace.current_user.short_name}"
        presets.setdefault("name_prefix", f"[dev {short}] ")
        presets.setdefault("tags", {}).setdefault("dev", short)
        presets.setdefault("jobs_max_concurrent_runs", 4)
        presets.setdefault("trigger_pause_status", "PAUSED")
        presets.setdefault("pipelines_development", True)
    prefix = str(presets.get("name_prefix") or "")
    tags: dict[str, str] = dict(presets.get("tags") or {})
    paused = presets.get("trigger_pause_status")
    for job in jobs.values():
        for environment in job.get("environments") or []:
            spec = environment.get("spec") or {}
            spec["dependencies"] = [_pip_path(d) for d in spec.get("dependencies") or []]
        job.setdefault("deployment", deployment)
        job.setdefault("edit_mode", "UI_LOCKED")
        job.setdefault("format", "MULTI_TASK")
        job.setdefault("queue", {"enabled": True})
        job["name"] = prefix + job["name"]
        if tags:
            job["tags"] = {**tags, **{k: v for k, v in (job.get("tags") or {}).items() if v}}
        if not job.get("max_concurrent_runs") and presets.get("jobs_max_concurrent_runs"):
            job["max_concurrent_runs"] = presets["jobs_max_concurrent_runs"]
        for trigger in ("schedule", "continuous", "trigger"):
            if trigger in job and not job[trigger].get("pause_status"):
                job[trigger]["pause_status"] = paused or "UNPAUSED"
    for pipeline in pipelines.values():
        if environment := pipeline.get("environment"):
            environment["dependencies"] = [_pip_path(d) for d in environment.get("dependencies") or []]
        pipeline.setdefault("deployment", deployment)
        pipeline.setdefault("edition", "ADVANCED")
        pipeline["name"] = prefix + pipeline["name"]
        if presets.get("pipelines_development"):
            pipeline["development"] = True
        if paused == "PAUSED" and pipeline.get("continuous"):
            del pipeline["continuous"]  # made false, which the CLI's output then omits
        if tags:
            pipeline["tags"] = {**tags, **{k: v for k, v in (pipeline.get("tags") or {}).items() if v}}


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


def deploy_local(settings: LakehouseSettings, target: str = "local") -> str:
    """Deploy the bundle to the workspace the settings name (the stand-in locally) with the real
    Databricks CLI when it is here, else with our own deployer, and seed the local sample feeds;
    what `task dev` and `task pipeline` do before they start. Returns a one-line summary."""
    from lakehouse_resources.databricks import databricks_client_from_settings
    from lakehouse_resources.locks import exclusive

    from lakehouse_cli.databricks_cli import find_cli

    root = settings.root / "databricks"
    client = databricks_client_from_settings(settings).workspace_client()
    token = settings.standin_token if settings.uses_databricks_standin else None
    # One deploy at a time per warehouse: two `task pipeline`s started together share its stand-in.
    with exclusive(settings.warehouse_state_dir / "bundle-deploy.lock"):
        # The CLI's local state lives with the stand-in's workspace it describes.
        local_state = (
            settings.warehouse_state_dir / "databricks_standin" / "cli"
            if settings.uses_databricks_standin
            else None
        )
        summary = deploy_bundle(
            client, root, target, cli=find_cli(settings.root), token=token, local_state=local_state
        )
    if target == "local":
        upload_sample_feeds(client, root, load_bundle(root).target(target))
    return summary


def deploy_bundle(
    client: Any,
    root: Path,
    target: str,
    *,
    cli: Path | None,
    token: str | None,
    local_state: Path | None = None,
    built: dict[str, Any] | None = None,
) -> str:
    """`databricks bundle deploy -t <target>` with the CLI at `cli`, or our own deployer when None,
    to the workspace `client` talks to; returns a one-line summary. `built` replaces what our own
    deployer deploys (tests change a parameter with it); the CLI always deploys the bundle as it is."""
    import time

    from lakehouse_cli.bundle_deploy import deploy
    from lakehouse_cli.databricks_cli import run_bundle, version_of

    started = time.monotonic()
    if cli is not None:
        run_bundle(
            cli,
            root,
            ["deploy", "-t", target],
            host=client.config.host or "",
            token=token,
            local_state=local_state,
        )
        version = ".".join(map(str, version_of(cli) or ()))
        return f"bundle deploy: databricks CLI {version}, target {target}, {time.monotonic() - started:.1f} s"
    user = client.current_user.me().user_name
    bundle_target = load_bundle(root).target(target)
    result = deploy(
        client,
        built or build_resources(root, target, user_name=user),
        bundle=bundle_target.bundle_name,
        target=target,
        bundle_root=root,
        root_path=bundle_target.interpolate(bundle_target.root_path, user),
    )
    return result.summary()


def deploy_before_run(settings: LakehouseSettings) -> str | None:
    """`task dev` / `task pipeline`: deploy the bundle to the local stand-in first, so the domains
    location finds its jobs and pipelines by name, and the notebooks their files, as on a workspace;
    None elsewhere."""
    if not settings.uses_databricks_standin:
        return None
    return deploy_local(settings)


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
        summary = deploy_local(settings)
    except (BundleBuildError, ValueError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(summary)
    return 0
