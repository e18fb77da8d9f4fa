"""Every file under databricks/notebooks/ is code a Databricks workspace runs as it is (a bundle
deploy syncs it there).

Read with `ast`, not run: imports only what a Databricks runtime provides (the standard library,
pyspark), dagster_pipes and the project's own wheel (data_ops, installed as a task library) or
workspace files beside it; no local path; no variable only the local setup defines. That the same
files run on the stand-in is proven by the client and component tests that materialize them.
"""

import ast
import sys
from pathlib import Path

import pytest
from lakehouse_resources.settings import LakehouseSettings
from testsupport import REPO

NOTEBOOKS = REPO / "databricks" / "notebooks"
FILES = sorted(NOTEBOOKS.glob("*.py"))
WORKSPACE_FILES = {path.stem for path in FILES}
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
    assert {"customer_value", "customer_tiers", "fact_virtual_revenue"} <= WORKSPACE_FILES


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_a_notebook_imports_only_what_a_workspace_provides(path: Path) -> None:
    modules = imported_modules(ast.parse(path.read_text(), filename=str(path)))
    allowed = set(sys.stdlib_module_names) | RUNTIME_PACKAGES | WORKSPACE_FILES

    assert modules - allowed == set(), f"{path.name} imports what a Databricks runtime lacks"


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


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_a_notebook_names_no_local_path_or_local_only_variable(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))

    assert local_paths(tree) == [], f"{path.name} names local paths"
    assert local_variables(tree) == [], f"{path.name} reads variables only the local setup defines"


def test_the_checks_catch_what_they_are_for() -> None:
    bad = ast.parse(
        "import duckdb, os\ncon = duckdb.connect(os.environ['LAKEHOUSE_DUCKDB_PATH'])\nopen('/work/x.csv')\n"
    )
    assert "duckdb" in imported_modules(bad) - set(sys.stdlib_module_names) - RUNTIME_PACKAGES
    assert local_variables(bad) == ["LAKEHOUSE_DUCKDB_PATH"]
    assert local_paths(bad) == ["/work/x.csv"]
    assert local_paths(ast.parse("open('/Volumes/main/lakehouse/pipes/x')")) == []
