"""`lakehouse`: the operator commands behind `task pipeline` and `task dev`."""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

from lakehouse_resources.processes import start_child, stop_group
from lakehouse_resources.settings import LakehouseSettings, SettingsError, get_settings

T = TypeVar("T")


def _pipeline(args: argparse.Namespace) -> int:
    import dagster as dg
    from lakehouse_standins.shared import running_standins, shared_standins

    from lakehouse_cli.bundle import deploy_before_run
    from lakehouse_cli.home import local_instance
    from lakehouse_cli.pipeline import (
        PipelineStopped,
        execute_pipeline,
        format_summary,
        load_all_definitions,
        needs_standins,
        pipeline_job,
    )
    from lakehouse_cli.progress import output_to_log

    settings = get_settings()
    _require_spark(settings)
    # A multi-asset that loads its tables together (one transaction) is selected whole.
    selection = (
        dg.AssetSelection.from_string(args.select).required_multi_asset_neighbors() if args.select else None
    )
    log_path = settings.state_dir / "logs" / f"pipeline-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"event log: {log_path}", flush=True)
    with ExitStack() as stack:
        log = stack.enter_context(log_path.open("w", buffering=1))
        console = sys.stdout if args.verbose else stack.enter_context(output_to_log(log))

        def say(line: str) -> None:
            console.write(line + "\n")
            console.flush()

        standins, early_deploy = None, None
        if running_standins(settings) is not None:
            # Stand-ins already run (`task dev`): join them and redeploy while the Definitions load;
            # the deploy is a child process (the real CLI) that the second core runs beside the load.
            standins = stack.enter_context(shared_standins(settings, say=say))
            if standins is not None:
                early_deploy = in_background(deploy_before_run, standins.settings_for(settings))
        job = pipeline_job(load_all_definitions(settings), selection)
        if standins is None and needs_standins(job):
            standins = stack.enter_context(shared_standins(settings, say=say))
        if standins is not None and standins.settings_for(settings) != settings:
            # The stand-ins are on other ports than configured (one was taken): point the resources there.
            settings = standins.settings_for(settings)
            job = pipeline_job(load_all_definitions(settings), selection)
        if early_deploy is not None:
            deployed = early_deploy.result()
        else:
            deployed = deploy_before_run(settings) if standins is not None else None
        if deployed:
            say(deployed)
        instance = stack.enter_context(local_instance(settings))
        try:
            summary = execute_pipeline(
                job,
                instance,
                say=say,
                log=log,
                verbose=args.verbose,
                concurrent_runs=settings.pipeline_concurrent_runs,
            )
        except PipelineStopped as stopped:
            say(str(stopped))
            summary = stopped
    if isinstance(summary, PipelineStopped):
        # The run's thread may still be inside a step: end the process rather than wait for it
        # (its children die with it, see lakehouse_resources.processes).
        sys.stdout.flush()
        os._exit(128 + summary.signum)
    print(format_summary(summary))
    print(f"event log: {log_path}")
    return 0 if summary.success else 1


def _require_spark(settings: LakehouseSettings) -> None:
    """The Databricks stand-in runs Spark with Delta Lake: without Java, or without Delta's jars and
    no way to fetch them, say what to do before anything starts."""
    if settings.uses_databricks_standin:
        from lakehouse_standins.databricks.spark_runtime import require_delta_jars, require_java

        require_java()
        require_delta_jars()


def _dev(args: argparse.Namespace) -> int:
    from lakehouse_standins.shared import planned_settings, port_free, shared_standins, wants_standins

    from lakehouse_cli.dbt_cloud import prepare_state, state_ready

    settings = get_settings()
    _require_spark(settings)
    if not port_free(settings.dagster_port):
        # Before anything starts: a second `task dev` leaves nothing behind.
        print(
            f"lakehouse dev: 127.0.0.1:{settings.dagster_port} address already in use (DAGSTER_PORT);"
            " is another `task dev` running?",
            file=sys.stderr,
        )
        return 1
    env = {**os.environ, "DAGSTER_HOME": str(_prepare_home_for_dg(settings))}
    env.update(_quiet_warnings_env(env))
    command = [
        *(sys.executable, "-m", "dagster", "dev"),
        *("-w", str(settings.root / "workspace.yaml")),
        *("-h", "127.0.0.1", "-p", str(settings.dagster_port)),
    ]
    # The code servers load while nothing else competes for the CPU; Spark starts on the first
    # Databricks task (a stand-in this checkout already runs keeps its own choice).
    settings = settings.model_copy(update={"standin_spark_at_start": False})
    cwd = Path(env["DAGSTER_HOME"])  # not the checkout's root, whose `.env` (for `dg dev`) would win
    dagster_dev: subprocess.Popen[bytes] | None = None
    if wants_standins(settings):
        settings = planned_settings(settings)
        if state_ready(settings):
            # Nothing the code servers load waits for the stand-ins: start both at once.
            dagster_dev = _start_dagster_dev([*command, *args.extra], cwd, {**env, **_ports_env(settings)})
    try:
        with shared_standins(settings) as standins:
            if standins is not None and standins.settings_for(settings) != settings:
                if dagster_dev is not None:
                    print(
                        "lakehouse dev: a stand-in port was taken while starting; restart `task dev`"
                        " so the code servers use the stand-ins' ports",
                        file=sys.stderr,
                    )
                settings = standins.settings_for(settings)
            if dagster_dev is None:
                prepare_state(settings)
                dagster_dev = _start_dagster_dev(
                    [*command, *args.extra], cwd, {**env, **_ports_env(settings)}
                )
            if standins is not None:
                # Beside the code servers' start: no location needs the deployment to load (jobs
                # and pipelines are looked up when they run), and the UI is up long after this ends.
                threading.Thread(
                    target=_deploy_bundle_for_dev, args=(standins.settings_for(settings),), daemon=True
                ).start()
            return _wait_until_signalled(dagster_dev)
    except BaseException:
        if dagster_dev is not None and dagster_dev.poll() is None:
            stop_group(dagster_dev)
        raise


def _ports_env(settings: LakehouseSettings) -> dict[str, str]:
    return {
        "LAKEHOUSE_DATABRICKS_STANDIN_PORT": str(settings.databricks_standin_port),
        "LAKEHOUSE_DBT_CLOUD_STANDIN_PORT": str(settings.dbt_cloud_standin_port),
    }


# Warnings `dagster dev` and its processes (webserver, daemon, code servers, sensors, run workers)
# printed on every start that ask nothing of a `task dev` user, by the start of their message: Python
# reads PYTHONWARNINGS before site-packages can be imported, so Dagster's PreviewWarning and
# BetaWarning classes cannot be named there. Any other warning, and every error, still shows.
QUIET_WARNINGS = (
    # `dagster dev` itself: "... is superseded ... Use 'dg dev' instead" (`task dev` is the command
    # here; the README gives `dg dev` as the other way).
    "ignore:Function `dev_command` is superseded",
    # Dagster calling its own preview API whenever the transformation location loads its dbt Cloud
    # state: twice per load, in the code server, each sensor evaluation and each run worker.
    "ignore:Function `Definitions.with_reconstruction_metadata` is currently in preview",
)


def _quiet_warnings_env(env: dict[str, str]) -> dict[str, str]:
    """PYTHONWARNINGS for `dagster dev`'s processes; the user's own filters come last, so they win."""
    own = env.get("PYTHONWARNINGS")
    return {"PYTHONWARNINGS": ",".join([*QUIET_WARNINGS, *([own] if own else [])])}


def _deploy_bundle_for_dev(settings: LakehouseSettings) -> None:
    from lakehouse_cli.bundle import BundleBuildError, deploy_before_run

    try:
        deployed = deploy_before_run(settings)
    except (BundleBuildError, ValueError, RuntimeError) as exc:
        # The UI still starts: the domains assets then fail naming what is not deployed.
        print(f"bundle deploy failed, the domains location's jobs are not deployed:\n{exc}", file=sys.stderr)
    else:
        if deployed:
            print(deployed)


def _start_dagster_dev(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # SIGTERM when we die: dagster dev then stops its webserver, daemon and code servers.
    return start_child(command, cwd=cwd, env=env, parent_death_signal=signal.SIGTERM)


def _wait_until_signalled(child: subprocess.Popen[bytes]) -> int:
    """Wait until `child` ends or we are asked to stop; a requested stop that the child honours is
    a clean exit (0)."""
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        # Ctrl-C reaches us and `task` (our group), not the child's own group: pass it on once,
        # then wait for dagster dev's own orderly shutdown.
        if not stopping:
            stopping.append(signum)
            child.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    code = child.wait()
    return 0 if stopping else code


def _standins(_: argparse.Namespace) -> int:
    """Serve this checkout's stand-ins until Ctrl-C or SIGTERM (for `dg dev`)."""
    from lakehouse_standins.shared import shared_standins

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    settings = get_settings()
    _prepare_home_for_dg(settings)
    with shared_standins(settings) as standins:
        if standins is None:
            print("no stand-ins: this environment uses the real services")
            return 0
        print("Ctrl-C to stop", flush=True)
        stop.wait()
    return 0


def _home(_: argparse.Namespace) -> int:
    print(_prepare_home_for_dg(get_settings()))
    return 0


def _dbt_cloud_prepare(args: argparse.Namespace) -> int:
    from lakehouse_transformation.defs.dbt_cloud.workspace import DbtCloudStateError

    from lakehouse_cli.dbt_cloud import prepare_state

    try:
        print(f"dbt Cloud workspace state: {prepare_state(get_settings(), refresh=args.refresh)}")
    except DbtCloudStateError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


def _prepare_home_for_dg(settings: LakehouseSettings) -> Path:
    from lakehouse_cli.home import point_dg_at_local_instance, prepare_dagster_home

    home = prepare_dagster_home(settings)
    if env_file := point_dg_at_local_instance(settings, home):
        print(f"DAGSTER_HOME={home} written to {env_file} for `dg dev`", file=sys.stderr)
    return home


def _tools(args: argparse.Namespace) -> int:
    from lakehouse_cli.databricks_cli import tools_command

    return tools_command(args)


def in_background(work: Callable[..., T], *args: object) -> Future[T]:
    """`work(*args)` on a daemon thread (an exit never waits for it); its result or error in the future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work(*args))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="lakehouse-background", daemon=True).start()
    return future


def main(argv: list[str] | None = None) -> int:
    # The process ends soon after its command: at exit, leave every object loaded so far (all four
    # locations' Definitions, dbt, dlt) out of the interpreter's last garbage collections, which
    # took 1-2 s of `lakehouse pipeline`'s exit on 2 cores (bench/inner_loop.py). Once per process.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    parser = argparse.ArgumentParser(prog="lakehouse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    pipeline = commands.add_parser("pipeline", help="materialize every asset of every location")
    pipeline.add_argument("--select", help="a Dagster asset selection, e.g. 'key:\"raw/raw_orders\"+'")
    pipeline.add_argument("--verbose", action="store_true", help="print the whole event log as well")
    pipeline.set_defaults(func=_pipeline)
    dev = commands.add_parser("dev", help="start the Dagster UI with all locations (and the stand-ins)")
    dev.add_argument("extra", nargs=argparse.REMAINDER)
    dev.set_defaults(func=_dev)
    commands.add_parser("standins", help="serve only the Databricks and dbt Cloud stand-ins").set_defaults(
        func=_standins
    )
    commands.add_parser("home", help="write the local instance config and print DAGSTER_HOME").set_defaults(
        func=_home
    )
    dbt_cloud = commands.add_parser("dbt-cloud", help="dbt Cloud deploy steps").add_subparsers(required=True)
    prepare = dbt_cloud.add_parser("prepare", help="fetch and save the workspace state Definitions load from")
    prepare.add_argument("--refresh", action="store_true", help="fetch again even when a state is saved")
    prepare.set_defaults(func=_dbt_cloud_prepare)
    tools = commands.add_parser(
        "tools", help="install the pinned Databricks CLI (with Go) and Delta Lake's Spark jars when missing"
    )
    tools.add_argument("--require", action="store_true", help="fail when it cannot be installed (no Go)")
    tools.set_defaults(func=_tools)
    from lakehouse_cli.bundle import add_commands as add_bundle_commands

    add_bundle_commands(commands)
    args = parser.parse_args(argv)
    from lakehouse_standins.databricks.spark_runtime import SparkUnavailable

    try:
        return int(args.func(args))
    except (SettingsError, SparkUnavailable) as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
