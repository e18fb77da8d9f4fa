"""Where the repository's files are, found once instead of with `Path(__file__).parent` chains."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_MARKERS = ("workspace.yaml", "dbt")


@cache
def _discovered_root() -> Path:
    # Editable installs keep this file inside the checkout; walk up to the folder that holds
    # the workspace. Outside a checkout (a packaged deployment) LAKEHOUSE_ROOT must say where.
    for candidate in Path(__file__).resolve().parents:
        if all((candidate / marker).exists() for marker in _MARKERS):
            return candidate
    return Path.cwd()


def repo_root() -> Path:
    explicit = os.environ.get("LAKEHOUSE_ROOT")
    return Path(explicit).resolve() if explicit else _discovered_root()
