"""The override that lets `task pipeline`'s runs share a process, and the upstream call it skips."""

from __future__ import annotations

import logging.config
from typing import Any

import dagster as dg
import pytest
from dagster._core.instance.methods.event_methods import EventMethods
from lakehouse_cli import log_config


def test_upstream_still_reconfigures_logging_with_nothing_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """When this fails, Dagster no longer calls dictConfig without `python_logs`: drop the override."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(logging.config, "dictConfig", calls.append)
    with dg.instance_for_test() as instance:
        assert instance.get_python_log_dagster_handler_config() == {}
        log_config._UPSTREAM(instance)
    assert len(calls) == 1


def test_runs_share_a_process_only_without_python_logs_and_not_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(EventMethods, "get_yaml_python_handlers", log_config._UPSTREAM)
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(logging.config, "dictConfig", calls.append)
    with dg.DagsterInstance.ephemeral() as instance:
        assert not log_config.runs_can_share_this_process(instance)
    handlers = {"handlers": {"console": {"class": "logging.StreamHandler"}}}
    with dg.instance_for_test(overrides={"python_logs": {"dagster_handler_config": handlers}}) as instance:
        assert not log_config.runs_can_share_this_process(instance)
    with dg.instance_for_test() as instance:
        assert log_config.runs_can_share_this_process(instance)
        assert instance.get_yaml_python_handlers() == []
    assert calls == []
