"""Seed 001's production replication: SQL Server `dbo.raw_*` into the warehouse's `raw` schema."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from lakehouse_resources.settings import LakehouseSettings

from lakehouse_ingestion.defs.production.database_replication import build_database_replication

REPLICATION_FILE = Path(__file__).with_name("replication.yaml")
# The same group as the CSV replication: whichever one an environment loads owns these keys.
GROUP = "jaffle_shop_raw"


def build_jaffle_shop_sqlserver(settings: LakehouseSettings) -> dg.AssetsDefinition:
    return build_database_replication(
        settings, name="jaffle_shop_sqlserver", replication_file=REPLICATION_FILE, group_name=GROUP
    )
