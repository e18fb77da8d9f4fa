"""`task dev` plans the stand-ins' ports before they start, so its code servers can start at once."""

import socket

from lakehouse_resources.settings import LakehouseSettings
from lakehouse_standins.shared import planned_settings


def test_free_configured_ports_are_kept_and_a_taken_one_is_replaced(
    local_settings: LakehouseSettings,
) -> None:
    assert planned_settings(local_settings) == local_settings

    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", local_settings.dbt_cloud_standin_port))
        stranger.listen()
        planned = planned_settings(local_settings)

    assert planned.databricks_standin_port == local_settings.databricks_standin_port
    assert planned.dbt_cloud_standin_port != local_settings.dbt_cloud_standin_port
