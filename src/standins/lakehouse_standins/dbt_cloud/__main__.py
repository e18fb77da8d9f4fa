"""Serve the dbt Cloud stand-in on the port the settings name, until interrupted (`task dev`)."""

from __future__ import annotations

import signal
import threading

from lakehouse_resources.settings import get_settings

from lakehouse_standins.dbt_cloud import DbtCloudStandin, StandinConfig


def config_from_settings() -> StandinConfig:
    from lakehouse_standins.local import dbt_cloud_config

    return dbt_cloud_config(get_settings())


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
