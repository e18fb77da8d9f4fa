"""Sling replication from the compose PostgreSQL (a real database source) into `raw_pg`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from lakehouse_resources.settings import LakehouseSettings

from lakehouse_ingestion.defs.production.database_replication import build_database_replication

REPLICATION_FILE = Path(__file__).with_name("replication.yaml")
GROUP = "shop_postgres_raw"


def build_shop_postgres(settings: LakehouseSettings) -> dg.AssetsDefinition:
    return build_database_replication(
        settings, name="shop_postgres", replication_file=REPLICATION_FILE, group_name=GROUP
    )
