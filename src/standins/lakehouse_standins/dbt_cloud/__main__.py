"""Serve the dbt Cloud stand-in on the port the settings name, until interrupted (`task dev`)."""

from __future__ import annotations

import signal
import threading

from lakehouse_resources.settings import get_settings

from lakehouse_standins.dbt_cloud import DbtCloudStandin, StandinConfig


def config_from_settings() -> StandinConfig:
    settings = get_settings()
    return StandinConfig(
        project_dir=settings.dbt_dir / "kaizen_wars",
        work_dir=settings.state_dir / "dbt_cloud_standin",
        duckdb_path=settings.duckdb_path,
        account_id=settings.dbt_cloud_account_id or 1,
        project_id=settings.dbt_cloud_project_id or 1,
        environment_id=settings.dbt_cloud_environment_id or 1,
    )


def main() -> None:
    stop = threading.Event()
    # Reset explicitly: a process started in the background may inherit ignored signals.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    settings = get_settings()
    with DbtCloudStandin(config_from_settings(), port=settings.dbt_cloud_standin_port) as standin:
        print(f"dbt Cloud stand-in serving {standin.api_url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
