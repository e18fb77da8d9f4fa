"""What a dlt asset shows in the UI: entries a user can read, and no path of the machine that ran it.

dagster-dlt's materializations carry `jobs`: dlt's job list as a JSON blob whose `file_path` is a
file in the pipeline's working folder. `fetch_row_count()` reads the table name from it, so it is
replaced only after that, by the load id and when the load ran. (The asset's specs are built
without the dlt objects dagster-dlt would otherwise put on them, see `assets.py`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    from dlt.common.pipeline import LoadInfo


def readable_load_metadata(metadata: Mapping[str, Any], load: LoadInfo | None) -> dict[str, Any]:
    """The materialization's entries without `jobs`, with the load id, its start and end as
    timestamps (dagster-dlt gives them as text) and its duration, from the load that ran."""
    readable = {key: value for key, value in metadata.items() if key != "jobs"}
    if load is None:
        return readable
    started_at, finished_at = load.started_at, load.finished_at
    return {
        **readable,
        "load_id": ", ".join(load.loads_ids),
        "started_at": dg.MetadataValue.timestamp(started_at),
        "finished_at": dg.MetadataValue.timestamp(finished_at),
        "duration_seconds": round((finished_at - started_at).total_seconds(), 3),
    }
