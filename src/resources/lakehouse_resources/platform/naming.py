"""The one naming policy: `{domain}_{source}_{layer}_{asset}`, deployed as `<key>_<target>`.

Names are always built from their fields, never parsed back: a domain may contain an underscore,
so `finance_erp_raw_x` does not say where the domain ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class Layer(StrEnum):
    """Seed 004's staged layers, then the medallion layers (issue 12), in data-flow order."""

    RAW = "raw"
    BASE = "base"
    STAGING = "staging"
    FINAL = "final"
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


LAYERS: tuple[str, ...] = tuple(layer.value for layer in Layer)


class NamingError(ValueError):
    """A name that breaks the policy; the message names the field and the rule."""


def check_name(field: str, value: str) -> str:
    if not SNAKE_CASE.match(value):
        raise NamingError(f"{field} {value!r} is not lower snake case (a-z, 0-9, single underscores)")
    return value


def check_layer(value: str) -> Layer:
    if value not in LAYERS:
        raise NamingError(f"layer {value!r} is not one of {', '.join(LAYERS)}")
    return Layer(value)


@dataclass(frozen=True)
class TableName:
    """A Unity Catalog three-part name."""

    catalog: str
    schema: str
    table: str

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.table}"


@dataclass(frozen=True)
class ResourceName:
    """A job, a pipeline or one of their tables, named by the policy."""

    domain: str
    source: str
    layer: Layer
    asset: str

    def __post_init__(self) -> None:
        check_name("domain", self.domain)
        check_name("source", self.source)
        check_name("asset", self.asset)
        object.__setattr__(self, "layer", check_layer(str(self.layer)))

    @property
    def key(self) -> str:
        """The resource key in the bundle and the last part of the Dagster asset key."""
        return f"{self.domain}_{self.source}_{self.layer.value}_{self.asset}"

    def deployed(self, target: str) -> str:
        """The name a deploy to `target` gives the job or pipeline (seed 004's `_${bundle.target}`)."""
        return deployed_name(self.key, target)

    @property
    def table(self) -> TableName:
        """Where the table lives under the policy: catalog = domain, schema = source."""
        return TableName(self.domain, self.source, f"{self.layer.value}_{self.asset}")


def deployed_name(key: str, target: str) -> str:
    return f"{key}_{check_name('target', target)}"


_FIELDS = ("catalog", "schema", "table", "domain", "source", "layer", "asset", "target")


@dataclass(frozen=True)
class NamespaceRule:
    """How one target places the policy's tables; a setting of the bundle's targets overlay.

    Each part is a template over the policy's own name (`{catalog}`, `{schema}`, `{table}`) and its
    fields (`{domain}`, `{source}`, `{layer}`, `{asset}`, `{target}`). The default keeps the policy
    (catalog = domain, schema = source); seed 003's shared workspace catalogs are
    `dev_catalog` / `dev_{domain}` / `{source}_{table}`; locally open-source Spark has one catalog,
    so `spark_catalog` / `{catalog}_{schema}` / `{table}`.
    """

    catalog: str = "{catalog}"
    schema: str = "{schema}"
    table: str = "{table}"

    def __post_init__(self) -> None:
        for part in ("catalog", "schema", "table"):
            template = getattr(self, part)
            names = set(re.findall(r"{(\w*)}", template))
            unknown = names - set(_FIELDS)
            if unknown:
                raise NamingError(
                    f"namespace rule {part} {template!r} uses {', '.join(sorted(unknown))};"
                    f" allowed: {', '.join('{' + f + '}' for f in _FIELDS)}"
                )

    def resolve(self, name: ResourceName, target: str) -> TableName:
        policy = name.table
        fields = {
            "catalog": policy.catalog,
            "schema": policy.schema,
            "table": policy.table,
            "domain": name.domain,
            "source": name.source,
            "layer": name.layer.value,
            "asset": name.asset,
            "target": target,
        }
        return TableName(
            self.catalog.format(**fields), self.schema.format(**fields), self.table.format(**fields)
        )

    def resolve_table(self, table: TableName, target: str = "") -> TableName:
        """Place a three-part name (`main.marts.customers`) under this rule.

        The policy's catalog is the domain and its schema the source, so a rule over `{domain}` and
        `{source}` places such a name too; `{layer}` and `{asset}` need a ResourceName.
        """
        fields = {
            "catalog": table.catalog,
            "schema": table.schema,
            "table": table.table,
            "domain": table.catalog,
            "source": table.schema,
            "target": target,
        }
        try:
            return TableName(
                self.catalog.format(**fields), self.schema.format(**fields), self.table.format(**fields)
            )
        except KeyError as exc:
            raise NamingError(
                f"namespace rule needs {exc} to place {table}; use resolve() with its name"
            ) from None
