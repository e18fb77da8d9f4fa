"""Concurrent in-process runs must not reconfigure Python's logging while another run logs.

Dagster 1.13.27 starts every run's log manager with `logging.config.dictConfig`, even when the
instance configures no `python_logs` handlers (it then builds only a dummy logger). dictConfig
closes every handler while holding logging's module lock, and so deadlocks with another run's
thread that holds a handler (storing an event) and asks that lock for a logger (SQLAlchemy's
`create_engine`). With nothing configured the call returns no handler: this override skips it.
`tests/cli/test_log_config.py` fails when an upgrade stops the upstream call, so this goes then.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import dagster as dg
from dagster._core.instance.methods.event_methods import EventMethods

_UPSTREAM = EventMethods.get_yaml_python_handlers


def _configured_handlers_only(self: EventMethods) -> Sequence[logging.Handler]:
    if isinstance(self, dg.DagsterInstance) and not self.get_python_log_dagster_handler_config():
        return []
    return _UPSTREAM(self)


def runs_can_share_this_process(instance: dg.DagsterInstance) -> bool:
    """Whether runs of `instance` can run at once on threads of this process: its storage takes
    writers from several threads (not an ephemeral instance's in-memory SQLite) and it configures
    no `python_logs` handlers (their set-up is the deadlock above). Applies the override (idempotent)."""
    if instance.is_ephemeral or instance.get_python_log_dagster_handler_config():
        return False
    EventMethods.get_yaml_python_handlers = _configured_handlers_only  # type: ignore[method-assign]
    return True
