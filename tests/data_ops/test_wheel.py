"""The data_ops wheel a cluster installs: only the library, importing only what a runtime has."""

from __future__ import annotations

import ast
import re
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


def _built_version(project: Path, out: Path) -> str:
    """Build `project`'s wheel into `out` and read the version its metadata declares."""
    uv = shutil.which("uv")
    assert uv, "uv builds the wheel"
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(project)], check=True, capture_output=True
    )
    [wheel] = out.glob("data_ops-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        found = re.search(r"^Version: (.+)$", archive.read(metadata).decode(), re.MULTILINE)
    assert found, "the wheel's METADATA declares a version"
    assert wheel.name.startswith(f"data_ops-{found[1]}-")
    return found[1]


def test_the_wheel_version_changes_with_the_library_code_and_only_then(tmp_path: Path) -> None:
    # A cluster that has a version installed does not install it again: changed code needs a new one.
    project = tmp_path / "data_ops"
    shutil.copytree(
        REPO / "src/data_ops", project, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    first = _built_version(project, tmp_path / "first")
    again = _built_version(project, tmp_path / "again")
    assert re.fullmatch(r"0\.1\.0\+[0-9a-f]{12}", first), first
    assert again == first, "the same sources give the same version"
    assert _built_version(REPO / "src/data_ops", tmp_path / "repo") == first, "wherever they are"
    errors = project / "data_ops/errors.py"
    errors.write_text(errors.read_text() + "\n# changed\n")
    changed = _built_version(project, tmp_path / "changed")
    assert changed != first
    assert changed.startswith("0.1.0+")
