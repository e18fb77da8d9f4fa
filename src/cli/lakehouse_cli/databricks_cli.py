"""The real Databricks CLI: find it, install the pinned release, and run its bundle commands.

A `databricks` on PATH at or above the pinned version is used; otherwise the project's own build
in `.lakehouse/bin/databricks`. `lakehouse tools` builds that one from the Go module
`github.com/databricks/cli` (`go install`, or, where the module proxy will not list the module's
versions, `go mod download` and `go build` inside its folder of the module cache).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

MODULE = "github.com/databricks/cli"
PINNED = "1.12.1"
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


class CliUnavailable(RuntimeError):
    """No usable Databricks CLI and none could be built; the message says what to do."""


def project_cli(root: Path) -> Path:
    return root / ".lakehouse" / "bin" / "databricks"


def version_of(executable: Path | str) -> tuple[int, int, int] | None:
    try:
        done = subprocess.run(
            [str(executable), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    match = _VERSION.search(done.stdout)
    if done.returncode != 0 or not match:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _pinned() -> tuple[int, int, int]:
    match = _VERSION.match(PINNED)
    assert match
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def find_cli(root: Path) -> Path | None:
    """The Databricks CLI to use, or None: PATH's when recent enough, else the project's build."""
    on_path = shutil.which("databricks")
    if on_path and (found := version_of(on_path)) and found >= _pinned():
        return Path(on_path)
    local = project_cli(root)
    if local.exists() and (found := version_of(local)) and found >= _pinned():
        return local
    return None


def install_cli(root: Path) -> Path:
    """Build the pinned CLI into `.lakehouse/bin/databricks` with Go; raises CliUnavailable without Go."""
    go = shutil.which("go")
    if go is None:
        raise CliUnavailable(
            f"The Databricks CLI {PINNED} is not installed and Go is not on PATH: install Go"
            f" (`apt-get install golang`) and run `uv run task tools`, or install the CLI your usual way"
            " (https://docs.databricks.com/dev-tools/cli/install.html)."
        )
    target = project_cli(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    version_flag = f"-X {MODULE}/internal/build.buildVersion={PINNED}"
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    with tempfile.TemporaryDirectory(prefix="databricks-cli-") as gobin:
        done = subprocess.run(
            [go, "install", "-trimpath", "-ldflags", version_flag, f"{MODULE}@v{PINNED}"],
            env={**env, "GOBIN": gobin},
            capture_output=True,
            text=True,
            check=False,
        )
        built = Path(gobin) / "cli"
        if done.returncode == 0 and built.exists():
            shutil.move(built, target)
            return target
    # `go install module@version` asks the proxy for the module's version list, which it may refuse.
    download = subprocess.run(
        [go, "mod", "download", "-json", f"{MODULE}@v{PINNED}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if download.returncode != 0:
        raise CliUnavailable(f"go mod download {MODULE}@v{PINNED} failed: {download.stdout}{download.stderr}")
    folder = json.loads(download.stdout)["Dir"]
    build = subprocess.run(
        [go, "build", "-trimpath", "-ldflags", version_flag, "-o", str(target), "."],
        cwd=folder,
        env={k: v for k, v in env.items() if k != "GOFLAGS"},
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0:
        raise CliUnavailable(f"go build of {MODULE}@v{PINNED} failed:\n{build.stderr[-3000:]}")
    return target


def ensure_cli(root: Path) -> Path | None:
    """The CLI, built first when missing and Go is present; None when it cannot be had here."""
    found = find_cli(root)
    if found is not None or shutil.which("go") is None:
        return found
    return install_cli(root)


def cli_env(host: str, token: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a CLI command against `host` runs with: no profile of the user's leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update(DATABRICKS_HOST=host, DATABRICKS_CLI_UPGRADE_CHECK="false")
    if token:
        env["DATABRICKS_TOKEN"] = token
    # The bundle's Python resources run with the project's environment (databricks.yml `python:`);
    # the artifact build runs `uv`, which must be on PATH.
    uv = shutil.which("uv")
    if uv:
        env["PATH"] = f"{Path(uv).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


def run_bundle(
    cli: Path,
    bundle_root: Path,
    args: Sequence[str],
    *,
    host: str,
    token: str | None,
    local_state: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`databricks bundle <args>` in the bundle folder against `host`; raises with its output on failure.

    `local_state` is where the CLI keeps its local copy of the deployment state (default
    `<bundle>/.databricks`): one folder per workspace, so deploys to two stand-ins never mix."""
    extra = {"DATABRICKS_BUNDLE_TMP": str(local_state)} if local_state else None
    done = subprocess.run(
        [str(cli), "bundle", *args],
        cwd=bundle_root,
        env=cli_env(host, token, extra),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"databricks bundle {' '.join(args)} failed:\n{done.stderr.strip()[-4000:]}")
    return done


def tools_command(args: object) -> int:
    """`lakehouse tools`: the pinned Databricks CLI (built with Go if missing) and Delta Lake's jars."""
    from lakehouse_resources.settings import get_settings

    root = get_settings().root
    status = _cli_tool(root, require=bool(getattr(args, "require", False)))
    return status or _delta_jars()


def _delta_jars() -> int:
    """Resolve Delta Lake's Spark jars into `.lakehouse/spark-packages` once; later starts are offline."""
    from lakehouse_standins.databricks.delta_jars import cached_jars, default_cache
    from lakehouse_standins.databricks.spark_runtime import (
        INSTALL_JAVA_HINT,
        SparkUnavailable,
        find_java,
        require_delta_jars,
    )

    if cached_jars(default_cache()) is None:
        if find_java() is None:  # nothing runs Spark here; a Spark step will say so itself
            print(f"Delta Lake jars: not fetched, no Java for Spark ({INSTALL_JAVA_HINT})", file=sys.stderr)
            return 0
        print("Fetching Delta Lake's Spark jars from Maven Central (once)...", flush=True)
        try:
            require_delta_jars()
        except SparkUnavailable as exc:
            print(exc, file=sys.stderr)
            return 1
    print(f"Delta Lake jars: {default_cache()}")
    return 0


def _cli_tool(root: Path, *, require: bool) -> int:
    found = find_cli(root)
    if found is not None:
        print(f"Databricks CLI: {found}")
        return 0
    if shutil.which("go") is None and not require:
        print(
            f"Databricks CLI {PINNED}: not installed and no Go here; the bundle is deployed with"
            " lakehouse's own deployer instead.",
            file=sys.stderr,
        )
        return 0
    started = time.monotonic()
    print(f"Building the Databricks CLI {PINNED} with Go (once; a few minutes on a fresh machine)...")
    try:
        built = install_cli(root)
    except CliUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Databricks CLI: {built} ({time.monotonic() - started:.0f} s)")
    return 0
