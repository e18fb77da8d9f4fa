"""The stand-in's plain HTML pages (run_page.py, pipeline_page.py): one layout, one section."""

from __future__ import annotations

import html
import json
from typing import Any

from starlette.responses import HTMLResponse

_STYLE = (
    "body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em;overflow:auto}"
    "td,th{text-align:left;padding:0 1em 0 0}"
)


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>",
        status_code=status,
    )


def section(heading: str, text: Any) -> str:
    if text in (None, "", [], {}):
        return ""
    shown = text if isinstance(text, str) else json.dumps(text, indent=2)
    return f"<h2>{heading}</h2><pre>{html.escape(shown)}</pre>"
