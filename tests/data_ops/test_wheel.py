"""The data_ops wheel a cluster installs: only the library, importing only what a runtime has."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from testsupport import REPO

# A Databricks runtime provides these besides the standard library; the bundle attaches
# dagster-pipes to every job beside the wheel (databricks/resources/generate.py).
RUNTIME_MODULES = {"pyspark", "pydantic", "data_ops", "dagster_pipes"}


def test_wheel_holds_only_the_library_and_imports_only_what_a_runtime_provides(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv, "uv builds the wheel"
    subprocess.run(
        [uv, "build", "--package", "data-ops", "--wheel", "--out-dir", str(tmp_path)],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = tmp_path.glob("data_ops-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        sources = {name: archive.read(name).decode() for name in names if name.endswith(".py")}
    packages = {name.split("/", 1)[0] for name in names}
    assert {package for package in packages if not package.endswith(".dist-info")} == {"data_ops"}
    assert "data_ops/tables/manager.py" in sources
    assert not [name for name in names if "member" in name or "claims" in name or "lakehouse" in name]
    foreign = set()
    for name, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            modules = (
                [alias.name for alias in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )  # fmt: skip
            foreign |= {
                (name, module)
                for module in modules
                if module.split(".")[0] not in RUNTIME_MODULES | sys.stdlib_module_names
            }
    assert not foreign, f"the wheel imports what a Databricks runtime lacks: {sorted(foreign)}"
