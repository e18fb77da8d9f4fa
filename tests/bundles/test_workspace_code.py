"""Every Python file under databricks/src/ is code a Databricks workspace runs as it is (a bundle
deploy syncs it there): notebooks, job tasks and declarative pipeline sources alike.

Read with `ast`, not run: imports only what a Databricks runtime provides (the standard library,
pyspark), dagster_pipes and the project's own wheel (data_ops, installed as a task library),
workspace files beside it or packages of the bundle's `src` (a pipeline's root_path, on sys.path);
no local path; no variable only the local setup defines. That the same files run on the stand-in is
proven by the tests that materialize them.
"""

import ast
import sys
from pathlib import Path

import pytest
from lakehouse_resources.settings import LakehouseSettings
from testsupport import REPO

BUNDLE_CODE = REPO / "databricks" / "src"
FILES = sorted(path for path in BUNDLE_CODE.rglob("*.py") if "__pycache__" not in path.parts)
SRC_PACKAGES = {path.name for path in BUNDLE_CODE.iterdir() if path.is_dir()}
RUNTIME_PACKAGES = {"pyspark", "dagster_pipes", "data_ops"}
WORKSPACE_PATH_PREFIXES = ("/Volumes/", "/Workspace/", "dbfs:/")


def local_only_variables() -> set[str]:
    """Every variable the project's settings read: the local setup's, never a workspace's."""
    names: set[str] = set()
    for field in LakehouseSettings.model_fields.values():
        alias = field.validation_alias
        names.update(str(choice) for choice in getattr(alias, "choices", []))
    return names | {"LAKEHOUSE_STANDIN_VOLUMES_ROOT"}


def imported_modules(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def strings(tree: ast.AST) -> list[str]:
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_there_are_notebooks_and_python_tasks() -> None:
    assert {"customer_value", "customer_tiers", "fact_virtual_revenue"} <= {path.stem for path in FILES}


def _id(path: Path) -> str:
    return str(path.relative_to(BUNDLE_CODE))


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_workspace_code_imports_only_what_a_workspace_provides(path: Path) -> None:
    modules = imported_modules(ast.parse(path.read_text(), filename=str(path)))
    beside = {sibling.stem for sibling in path.parent.glob("*.py")}
    allowed = set(sys.stdlib_module_names) | RUNTIME_PACKAGES | beside | SRC_PACKAGES

    assert modules - allowed == set(), f"{_id(path)} imports what a Databricks runtime lacks"


def local_paths(tree: ast.AST) -> list[str]:
    return [
        value
        for value in strings(tree)
        if (value.startswith(("/", "~", "file:")) or ".lakehouse" in value or ".duckdb" in value)
        and not value.startswith(WORKSPACE_PATH_PREFIXES)
    ]


def local_variables(tree: ast.AST) -> list[str]:
    variables = local_only_variables()
    return [value for value in strings(tree) if value in variables]


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_workspace_code_names_no_local_path_or_local_only_variable(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))

    assert local_paths(tree) == [], f"{_id(path)} names local paths"
    assert local_variables(tree) == [], f"{_id(path)} reads variables only the local setup defines"


def test_the_checks_catch_what_they_are_for() -> None:
    bad = ast.parse(
        "import duckdb, os\ncon = duckdb.connect(os.environ['LAKEHOUSE_DUCKDB_PATH'])\nopen('/work/x.csv')\n"
    )
    assert "duckdb" in imported_modules(bad) - set(sys.stdlib_module_names) - RUNTIME_PACKAGES
    assert local_variables(bad) == ["LAKEHOUSE_DUCKDB_PATH"]
    assert local_paths(bad) == ["/work/x.csv"]
    assert local_paths(ast.parse("open('/Volumes/main/lakehouse/pipes/x')")) == []
