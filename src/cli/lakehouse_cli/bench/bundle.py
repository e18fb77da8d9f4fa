"""The bundle through the real Databricks CLI against the stand-in, beside our own emulation of it.

`cli_validate` (`databricks bundle validate -t local`) is the baseline; `lakehouse_build` is our
emulation of it; `cli_deploy` a deploy that changes nothing (what `task dev` and `task pipeline` do
on every start once deployed: wheel build, file sync check, plan); `own_deploy` our own deployer
doing the same. A first deploy to an empty stand-in is timed once, untimed rounds aside.
"""

from __future__ import annotations

from pathlib import Path

from lakehouse_cli.bench.timing import interleaved, summarize, timed


def run(work: Path, repeat: int, warmup: bool = True) -> dict[str, object]:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config
    from lakehouse_resources.settings import get_settings
    from lakehouse_standins.databricks import DatabricksStandin
    from lakehouse_standins.databricks.sample import write_sample_warehouse
    from lakehouse_standins.databricks.workspace import USER_NAME

    from lakehouse_cli.bundle import build_resources, deploy_bundle
    from lakehouse_cli.databricks_cli import ensure_cli, run_bundle

    root = get_settings().root
    bundle = root / "databricks"
    cli = ensure_cli(root)
    if cli is None:
        raise RuntimeError("the bundle benchmark needs the Databricks CLI: run `uv run task tools`")
    folder = work / "bundle"
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = write_sample_warehouse(folder / "warehouse.duckdb")
    with DatabricksStandin(folder / "standin", warehouse, spark_remote="sc://127.0.0.1:9") as standin:
        sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token))
        state = folder / "cli"

        def cli_command(*args: str) -> None:
            run_bundle(cli, bundle, list(args), host=standin.url, token=standin.token, local_state=state)

        first = timed(lambda: cli_command("deploy", "-t", "local"))
        cases = {
            "cli_validate": lambda: timed(lambda: cli_command("validate", "-t", "local")),
            "lakehouse_build": lambda: timed(lambda: build_resources(bundle, "local", user_name=USER_NAME)),
            "cli_deploy": lambda: timed(lambda: cli_command("deploy", "-t", "local")),
            "own_deploy": lambda: timed(
                lambda: deploy_bundle(sdk, bundle, "local", cli=None, token=standin.token)
            ),
        }
        times = interleaved(cases, repeat, warmup)
    return summarize(times, "cli_validate", first_cli_deploy_s=round(first, 2))
