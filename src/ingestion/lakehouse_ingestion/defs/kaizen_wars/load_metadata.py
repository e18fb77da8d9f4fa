"""What a dlt asset shows in the UI: entries a user can read, and no path of the machine that ran it.

dagster-dlt leaves two kinds of entry that fail that:

- on the asset definition, the dlt source, pipeline and translator objects it reads back at run
  time (`dagster_dlt/source`, `dagster_dlt/pipeline`, `dagster_dlt/translator`), which the UI
  shows as "[DltSource] (unserializable)" and so on. The asset is built from specs without them
  (they also become the op's output metadata, so they cannot be mapped away afterwards) and
  passes the three to `DagsterDltResource.run` itself;
- on each materialization, `jobs`: dlt's job list as a JSON blob whose `file_path` is a file in
  the pipeline's working folder. `fetch_row_count()` reads the table name from it, so it is
  replaced only after that, by the load id and when the load ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_dlt.constants import META_KEY_PIPELINE, META_KEY_SOURCE, META_KEY_TRANSLATOR

if TYPE_CHECKING:
    from dlt.common.pipeline import LoadInfo

RUN_TIME_OBJECTS = (META_KEY_SOURCE, META_KEY_PIPELINE, META_KEY_TRANSLATOR)


def without_run_time_objects(spec: dg.AssetSpec) -> dg.AssetSpec:
    metadata = {key: value for key, value in spec.metadata.items() if key not in RUN_TIME_OBJECTS}
    return spec.replace_attributes(metadata=metadata)


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
