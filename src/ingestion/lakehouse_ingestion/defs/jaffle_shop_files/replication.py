"""`replication_csv.yaml`: what users declare (files, target objects, columns), whichever engine loads it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPLICATION_FILE = Path(__file__).with_name("replication_csv.yaml")
GROUP = "jaffle_shop_raw"


def resolve_replication(replication: Mapping[str, Any], data_dir: Path) -> dict[str, Any]:
    """Turn stream names relative to data/ into absolute file URLs.

    Sling resolves relative paths against its working directory, which differs between the
    UI, a run worker and the tests; an absolute URL is the same everywhere.
    """
    streams = {
        (name if "://" in name else f"file://{(data_dir / name).resolve()}"): config
        for name, config in replication["streams"].items()
    }
    return {**replication, "streams": streams}


def load_replication(data_dir: Path) -> dict[str, Any]:
    return resolve_replication(yaml.safe_load(REPLICATION_FILE.read_text()), data_dir)


def file_path(stream_name: str) -> Path:
    return Path(stream_name.removeprefix("file://"))
