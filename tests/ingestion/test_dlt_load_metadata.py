"""The dlt asset's metadata helper: readable entries in, the job list out."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import dagster as dg
from lakehouse_ingestion.defs.kaizen_wars.load_metadata import readable_load_metadata

if TYPE_CHECKING:
    from dlt.common.pipeline import LoadInfo

DAGSTER_DLT = {
    "destination_name": "duckdb",
    "dataset_name": "raw",
    "rows_loaded": 3000,
    "started_at": "2026-01-02 03:04:05+00:00",
    "jobs": [{"file_path": "/tmp/state/dlt/kaizen_wars/load/loaded/1.2/fact_virtual.parquet"}],
}


def test_the_job_list_gives_way_to_the_load_id_and_its_times() -> None:
    started, finished = (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 7, 500000, tzinfo=UTC),
    )
    load = cast(
        "LoadInfo", SimpleNamespace(loads_ids=["1767323045.1"], started_at=started, finished_at=finished)
    )
    readable = readable_load_metadata(DAGSTER_DLT, load)
    assert "jobs" not in readable
    assert readable["load_id"] == "1767323045.1"
    assert readable["started_at"] == dg.MetadataValue.timestamp(started)
    assert readable["finished_at"] == dg.MetadataValue.timestamp(finished)
    assert readable["duration_seconds"] == 2.5
    assert {key: readable[key] for key in ("destination_name", "dataset_name", "rows_loaded")} == {
        "destination_name": "duckdb",
        "dataset_name": "raw",
        "rows_loaded": 3000,
    }


def test_without_a_load_only_the_job_list_goes() -> None:
    assert readable_load_metadata(DAGSTER_DLT, None) == {k: v for k, v in DAGSTER_DLT.items() if k != "jobs"}
