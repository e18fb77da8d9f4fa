"""`task dev` prints no warning that asks nothing of its user, and hides no other.

`lakehouse dev` gives `dagster dev` (and so its webserver, daemon, code servers and run workers) a
PYTHONWARNINGS naming the start of those messages. Here Dagster itself raises them, in a process with
that environment, next to a preview warning that must still show. Starting `task dev` whole takes
about a minute; tests/cli/test_browser.py does that.
"""

import os
import subprocess
import sys

from lakehouse_cli.main import QUIET_WARNINGS, _quiet_warnings_env

RAISE_THEM = """
import dagster as dg
from dagster._cli.dev import dev_command

try:
    dev_command.callback()  # warns "superseded ... Use 'dg dev' instead", then lacks its arguments
except TypeError:
    pass
dg.Definitions().with_reconstruction_metadata({})  # what loading dbt Cloud state calls
dg.Definitions().map_asset_specs(func=lambda spec: spec)  # any other preview API
print("done")
"""


def run_with(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", RAISE_THEM], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "done"
    return result.stderr


def test_dagster_devs_noise_is_silenced_and_other_warnings_still_show() -> None:
    bare = {name: value for name, value in os.environ.items() if name != "PYTHONWARNINGS"}

    # Without the filters Dagster prints all three (the test would prove nothing otherwise).
    loud = run_with(bare)
    assert "Use 'dg dev' instead" in loud
    assert "with_reconstruction_metadata" in loud

    quiet = run_with({**bare, **_quiet_warnings_env(bare)})
    assert "superseded" not in quiet
    assert "with_reconstruction_metadata" not in quiet
    assert "PreviewWarning: Function `Definitions.map_asset_specs` is currently in preview" in quiet
    assert "Invalid -W option" not in quiet


def test_the_users_own_filters_come_last_and_win() -> None:
    env = _quiet_warnings_env({"PYTHONWARNINGS": "default"})

    assert env["PYTHONWARNINGS"].split(",") == [*QUIET_WARNINGS, "default"]
    assert _quiet_warnings_env({})["PYTHONWARNINGS"].split(",") == list(QUIET_WARNINGS)
