"""`lakehouse`: the operator commands behind `task pipeline` and `task dev`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from lakehouse_resources.settings import SettingsError, get_settings


def _pipeline(_: argparse.Namespace) -> int:
    from lakehouse_standins.local import local_standins

    from lakehouse_cli.home import local_instance
    from lakehouse_cli.pipeline import format_summary, run_pipeline

    settings = get_settings()
    with local_standins(settings), local_instance(settings) as instance:
        summary = run_pipeline(settings, instance)
    print(format_summary(summary))
    return 0 if summary.success else 1


def _default_signals() -> None:
    # A shell's background jobs start with SIGINT ignored; dagster dev maps SIGTERM onto its
    # SIGINT handler, so it would then ignore both and outlive us.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _dev(args: argparse.Namespace) -> int:
    from lakehouse_standins.local import local_standins

    from lakehouse_cli.home import prepare_dagster_home

    settings = get_settings()
    env = {**os.environ, "DAGSTER_HOME": str(prepare_dagster_home(settings))}
    port = str(settings.dagster_port)
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(settings.root / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        port,
    ]
    with local_standins(settings) as standins:
        if standins.started:
            print(
                f"stand-ins: {', '.join(standins.started)} on {standins.databricks_url}, {standins.dbt_cloud_url}"
            )
        return _run_until_signalled([*command, *args.extra], settings.root, env)


def _run_until_signalled(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    child = subprocess.Popen(command, cwd=cwd, env=env, preexec_fn=_default_signals)

    def forward(signum: int, _frame: object) -> None:
        # dagster dev shuts its webserver, daemon and code servers down on SIGTERM/SIGINT;
        # wait for that instead of leaving them orphaned.
        child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    return child.wait()


def _home(_: argparse.Namespace) -> int:
    from lakehouse_cli.home import prepare_dagster_home

    print(prepare_dagster_home(get_settings()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lakehouse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("pipeline", help="materialize every asset of every location").set_defaults(
        func=_pipeline
    )
    dev = commands.add_parser("dev", help="start the Dagster UI with all locations (and the stand-ins)")
    dev.add_argument("extra", nargs=argparse.REMAINDER)
    dev.set_defaults(func=_dev)
    commands.add_parser("home", help="write the local instance config and print DAGSTER_HOME").set_defaults(
        func=_home
    )
    from lakehouse_cli.bundle import add_commands as add_bundle_commands

    add_bundle_commands(commands)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
