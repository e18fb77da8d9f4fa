"""The pages a pipeline update's link opens (`<host>/#joblist/pipelines/<id>/updates/<update_id>`,
followed by run_page.py's script): the update's state, its error, each flow's rows and
expectations, its event log and the output of `spark-pipelines`; and a pipeline's list of updates."""

from __future__ import annotations

import html
from typing import Any

from starlette.responses import HTMLResponse

from lakehouse_standins.databricks.pipelines import PipelineRecord, Pipelines, Update
from lakehouse_standins.databricks.run_html import page, section

_LOG_LINES = 400


def update_path(record: PipelineRecord, update: Update) -> str:
    return f"/standin/pipelines/{record.pipeline_id}/updates/{update.update_id}"


def _flows(events: list[dict[str, Any]]) -> str:
    rows = []
    for event in events:
        progress = (event.get("details") or {}).get("flow_progress") or {}
        if event["event_type"] != "flow_progress" or "metrics" not in progress:
            continue
        quality = progress.get("data_quality") or {}
        checks = ", ".join(
            f"{e['name']}: {e['passed_records']} passed, {e['failed_records']} failed"
            for e in quality.get("expectations") or []
        )
        dropped = f"; {quality['dropped_records']} dropped" if quality.get("dropped_records") else ""
        rows.append(
            f"<tr><td>{html.escape(event['origin'].get('flow_name', ''))}</td>"
            f"<td>{progress['metrics'].get('num_output_rows', '')}</td><td>{html.escape(checks + dropped)}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "<h2>Flows</h2><table><tr><th>Flow</th><th>Rows written</th><th>Expectations</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def render_update(api: Pipelines, record: PipelineRecord, update: Update) -> HTMLResponse:
    events = [e for e in record.events if e["origin"].get("update_id") == update.update_id]
    errors = "\n\n".join(e["message"] for e in events if e["level"] == "ERROR")
    log = api.state_dir / record.pipeline_id / update.update_id / "run.log"
    output = "\n".join(log.read_text(errors="replace").splitlines()[-_LOG_LINES:]) if log.exists() else ""
    listed = "\n".join(f"{e['timestamp']} {e['level']:<5} {e['event_type']}: {e['message']}" for e in events)
    refresh = "full refresh" if update.full_refresh else "refresh"
    body = (
        f"<h1>Update {html.escape(update.update_id)} of pipeline"
        f" <a href='/standin/pipelines/{record.pipeline_id}'>{html.escape(record.name)}</a></h1>"
        f"<p>State: <b>{html.escape(update.state)}</b> ({html.escape(update.cause)}, {refresh})</p>"
        + section("Error", errors)
        + _flows(events)
        + section("Events", listed)
        + section("Output (spark-pipelines)", output)
        + "<p><a href='/'>All runs</a></p>"
    )
    return page(f"Update {update.update_id}", body)


def render_pipeline(record: PipelineRecord) -> HTMLResponse:
    rows = "".join(
        f"<li><a href='{update_path(record, u)}'>{u.update_id}</a>: {html.escape(u.state)}</li>"
        for u in reversed(record.updates)
    )
    body = (
        f"<h1>Pipeline {html.escape(record.name)}</h1><p>{record.pipeline_id}: {html.escape(record.state)}</p>"
        f"<h2>Updates</h2><ul>{rows}</ul><p><a href='/'>All runs</a></p>"
    )
    return page(f"Pipeline {record.name}", body)
