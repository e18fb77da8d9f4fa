"""Logging for workspace code: plain stdlib logging plus one structured line per event.

Structured lines (`DATA_OPS_<EVENT> {json}`) go to stdout, where a Databricks driver log keeps them
and where an orchestrator (or the local stand-in) can read them back.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

EVENT_PREFIX = "DATA_OPS_"


def get_logger(name: str) -> logging.Logger:
    """A logger under `data_ops` that writes to stderr once, however often it is asked for."""
    logger = logging.getLogger(name if name.startswith("data_ops") else f"data_ops.{name}")
    root = logging.getLogger("data_ops")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    return logger


def emit(event: str, payload: dict[str, Any]) -> str:
    """Print one structured event line and return it."""
    line = f"{EVENT_PREFIX}{event.upper()} {json.dumps(payload, sort_keys=True, default=str)}"
    print(line, flush=True)
    return line


def parse_events(text: str, event: str) -> list[dict[str, Any]]:
    """The payloads of every `event` line in a log, in order."""
    prefix = f"{EVENT_PREFIX}{event.upper()} "
    return [json.loads(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)]
