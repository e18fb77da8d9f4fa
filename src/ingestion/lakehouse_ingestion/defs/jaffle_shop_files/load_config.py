"""Run config of the jaffle shop files asset, whichever engine loads them.

No `from __future__ import annotations`: Dagster reads the config class from the annotation.
"""

import dagster as dg
from pydantic import Field


class LoadConfig(dg.Config):
    # The YAML's full-refresh mode means "the table equals the file"; inserting only appended
    # rows keeps that true, so a full reload is forced only on request.
    full_refresh: bool = False
    allow_shrink: bool = Field(
        False,
        description="Load a file even if it empties its table or removes more of its rows than"
        " LAKEHOUSE_LOAD_MAX_SHRINK allows.",
    )
