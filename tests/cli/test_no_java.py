"""Without Java, `task pipeline` and `task dev` stop at once with one line naming what to install."""

import os
import subprocess
import sys

import pytest
from lakehouse_resources.settings import LakehouseSettings
from testsupport import REPO


@pytest.mark.parametrize("command", ["pipeline", "dev"])
def test_without_java_the_command_names_what_to_install(
    command: str, local_settings: LakehouseSettings, tmp_path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # no java anywhere on it
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse_cli.main", command],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "needs Java" in lines[0]
    assert "apt-get install openjdk-17-jre-headless" in lines[0]
    assert not local_settings.duckdb_path.exists(), "the pipeline ran without its Databricks stand-in"
