"""The real Databricks CLI for the tests that need it (marker `databricks_cli`).

Outside CI a missing CLI skips those tests with what to run; under CI=true it fails them: a green
CI must mean the real CLI ran.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lakehouse_cli.databricks_cli import PINNED, find_cli
from testsupport import REPO


def require_cli() -> Path:
    found = find_cli(REPO)
    if found is None:
        message = f"the Databricks CLI {PINNED} is not installed: run `uv run task tools` (needs Go)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found
