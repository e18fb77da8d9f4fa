"""Serve the Databricks stand-in until SIGINT/SIGTERM, e.g. for `task dev`:

    python -m lakehouse_standins.databricks --state-dir .lakehouse/databricks \
        --warehouse .lakehouse/warehouse.duckdb --port 8765
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from lakehouse_resources.settings import get_settings

from lakehouse_standins.databricks.app import DEFAULT_CLUSTER_ID, DEFAULT_VOLUME, DatabricksStandin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True, help="DuckDB file the runs read")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--token-file", type=Path, help="file holding the token clients must send (default: the checkout's)"
    )
    parser.add_argument(
        "--spark-dir", type=Path, help="local Spark's catalog and warehouse (default: <state-dir>/spark)"
    )
    parser.add_argument(
        "--spark-remote", help="an sc:// URL of a Spark Connect server someone else runs (default: its own)"
    )
    parser.add_argument("--cluster", action="append", default=[DEFAULT_CLUSTER_ID])
    parser.add_argument("--volume", action="append", default=[DEFAULT_VOLUME], help="catalog/schema/volume")
    parser.add_argument(
        "--wheel-entry",
        action="append",
        default=[],
        metavar="PACKAGE:ENTRY=FILE",
        help="the local file a python_wheel_task entry point runs",
    )
    args = parser.parse_args()
    token = args.token_file.read_text().strip() if args.token_file else get_settings().standin_token
    wheel_entries = dict(entry.split("=", 1) for entry in args.wheel_entry)
    stop = threading.Event()
    # Reset explicitly: a process started in the background may inherit SIGTERM/SIGINT as ignored.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    standin = DatabricksStandin(
        args.state_dir,
        args.warehouse,
        port=args.port,
        token=token,
        clusters=args.cluster,
        known_volumes=args.volume,
        wheel_entries={name: Path(file) for name, file in wheel_entries.items()},
        spark_dir=args.spark_dir,
        spark_remote=args.spark_remote,
    )
    with standin:
        print(f"Databricks stand-in on {standin.url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
