"""Reading a pipeline's event log page by page, as the Pipelines API allows: the first call names the
order, the next ones send the page token alone (with max_results); a token beside order_by or filter
is refused, as on a workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import InvalidParameterValue
from lakehouse_resources.databricks.deployed import pipeline_events
from lakehouse_standins.databricks.pipelines import Update
from testsupport import sparkless_standin


def test_every_page_is_read_oldest_first_with_the_token_alone(tmp_path: Path) -> None:
    with sparkless_standin(tmp_path) as standin:
        sdk = WorkspaceClient(config=Config(host=standin.url, token=standin.token, retry_timeout_seconds=5))
        created = sdk.api_client.do("POST", "/api/2.0/pipelines", body={"name": "events", "libraries": []})
        pipeline_id = created["pipeline_id"]  # type: ignore[index]
        record = standin.pipelines.get(pipeline_id)
        update = Update("u1", pipeline_id, "USER_ACTION", False, [], [])
        for n in range(7):
            standin.pipelines._event(record, update, "user_action", f"event {n}")
        standin.recorder.clear()
        read = [e["message"] for e in pipeline_events(sdk, pipeline_id, page_size=3)]
        assert read == [f"event {n}" for n in range(7)]
        pages = standin.recorder.matching("GET", f"/api/2.0/pipelines/{pipeline_id}/events")
        assert len(pages) == 3
        assert pages[0].query == {"max_results": "3", "order_by": "timestamp asc"}
        assert all(set(page.query) == {"max_results", "page_token"} for page in pages[1:])
        token = pages[1].query["page_token"]
        with pytest.raises(InvalidParameterValue, match="page_token is mutually exclusive"):
            sdk.api_client.do(
                "GET",
                f"/api/2.0/pipelines/{pipeline_id}/events",
                query={"page_token": token, "order_by": "timestamp asc"},
            )
