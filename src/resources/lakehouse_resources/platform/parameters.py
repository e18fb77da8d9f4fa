"""What a job's task is told about tables on a target: the one naming path for the bundle's jobs and
for the runs Dagster submits.

A task gets `--<layer>_<asset>_table=<catalog.schema.table>` for every table its spec writes, the
same for the tables of other specs it reads (`<domain>_<source>_<layer>_<asset>_table` when they
live elsewhere), and `--<parameter>=<name>` for each warehouse table it `reads`. Every name comes
from the target's namespace rule; the code never builds one.
"""

from __future__ import annotations

from lakehouse_resources.platform.catalog import SESSION_CATALOG
from lakehouse_resources.platform.naming import NamespaceRule, ResourceName, TableName
from lakehouse_resources.platform.specs import JobSpec, LoadedSpec, resolve_ref


def table_parameter(name: ResourceName) -> str:
    """How a job task is told where a table it writes lives: `<layer>_<asset>_table`."""
    return f"{name.layer.value}_{name.asset}_table"


def upstream(spec: LoadedSpec) -> list[ResourceName]:
    """Tables the spec's datasets read (`depends_on`) that another spec writes."""
    own = spec.tables()
    found: list[ResourceName] = []
    for dataset in spec.spec.datasets:
        for name in (resolve_ref(spec.name, ref) for ref in dataset.depends_on):
            if name not in own and name not in found:
                found.append(name)
    return found


def upstream_key(spec: LoadedSpec, name: ResourceName) -> str:
    """`<layer>.<asset>` for the spec's own domain and source, else `<domain>.<source>.<layer>.<asset>`."""
    local = (name.domain, name.source) == (spec.name.domain, spec.name.source)
    return ("" if local else f"{name.domain}.{name.source}.") + f"{name.layer.value}.{name.asset}"


def upstream_parameter(spec: LoadedSpec, name: ResourceName) -> str:
    """How a job task is told where an upstream table lives: its key with `_`, then `_table`."""
    return f"{upstream_key(spec, name).replace('.', '_')}_table"


def warehouse_table(rule: NamespaceRule, catalog: str, schema: str, table: str, target: str) -> TableName:
    """A warehouse table (dbt's, Sling's, dlt's) as Spark code names it on a target: as it is on a
    workspace; placed by the namespace rule where Spark has one catalog (open-source Spark)."""
    name = TableName(catalog, schema, table)
    return rule.resolve_table(name, target) if rule.catalog == SESSION_CATALOG else name


def table_arguments(
    spec: LoadedSpec, rule: NamespaceRule, target: str, warehouse_catalog: str
) -> dict[str, str]:
    """Parameter name -> full table name, for every table the job writes or reads, on `target`."""
    arguments = {table_parameter(name): str(rule.resolve(name, target)) for name in spec.tables()}
    arguments.update(
        {upstream_parameter(spec, name): str(rule.resolve(name, target)) for name in upstream(spec)}
    )
    if isinstance(spec.spec, JobSpec):
        for parameter, read in spec.spec.reads.items():
            schema, table = read.table.split(".")
            placed = warehouse_table(rule, warehouse_catalog, schema, table, target)
            arguments[parameter] = str(placed)
    return arguments
