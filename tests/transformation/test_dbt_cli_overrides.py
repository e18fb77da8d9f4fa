"""dbt_cli.py overrides two private members of DbtCliResource (docs/benchmarks.md: `dbt --version`
in a subprocess and the in-process adapter cost seconds per dbt step). These tests fail when a
dagster-dbt upgrade changes what is overridden, so the override is re-checked, not silently lost."""

import inspect
from functools import cached_property

from dagster_dbt import DbtCliResource
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.tools import ensure_local_tools
from lakehouse_transformation.defs.jaffle_shop.dbt_cli import lakehouse_dbt_cli


def test_cli_still_reads_the_two_members_we_override() -> None:
    cli = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in cli
    assert "self._initialize_dbt_core_adapter(args)" in cli
    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)
    assert list(inspect.signature(DbtCliResource._initialize_dbt_core_adapter).parameters) == ["self", "args"]


def test_the_package_version_is_what_dbt_version_reports(local_settings: LakehouseSettings) -> None:
    ensure_local_tools(local_settings)
    # The project folder is all `dbt --version` needs: no manifest, so no parse.
    stock = DbtCliResource(project_dir=str(local_settings.dbt_dir / "jaffle_shop"))
    ours = lakehouse_dbt_cli(stock, core_adapter=False)
    assert ours._cli_version == stock._cli_version  # the stock one runs `dbt --version`
    assert ours._initialize_dbt_core_adapter([]) is None
