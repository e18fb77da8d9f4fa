"""Configuration with pydantic: table names and parameters as a workspace passes them.

Workspace code never builds a table name: the bundle (through the one naming policy) passes full
three-part names, as pipeline configuration (`spark.conf`) or job parameters (`--key value`). This
module validates them and says which key is missing or malformed (`data_ops.pipelines` reads a
pipeline's configuration). `CatalogRule` is the shape of a
target's catalog rule in the bundle's targets overlay (seed 003's `dev_catalog.dev_member`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from data_ops.errors import ConfigError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TableName(BaseModel):
    """`catalog.schema.table`, each part a plain identifier."""

    model_config = ConfigDict(frozen=True)

    catalog: str
    schema_: str
    table: str

    @classmethod
    def parse(cls, name: str) -> Self:
        parts = name.split(".")
        if len(parts) != 3 or not all(_IDENTIFIER.match(part) for part in parts):
            raise ConfigError(f"table name '{name}' is not catalog.schema.table (letters, digits, _)")
        return cls(catalog=parts[0], schema_=parts[1], table=parts[2])

    @property
    def namespace(self) -> str:
        return f"{self.catalog}.{self.schema_}"

    @property
    def quoted(self) -> str:
        """For SQL: a part that is also a keyword (a table named `history`) stays a name."""
        return ".".join(f"`{part}`" for part in (self.catalog, self.schema_, self.table))

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema_}.{self.table}"


class CatalogRule(BaseModel):
    """Where a target puts a domain's tables: templates over `{domain}`, `{source}`, `{target}`.

    The default is the naming policy's (catalog = domain, schema = source); seed 003's dev target is
    `CatalogRule(catalog="{target}_catalog", schema="{target}_{domain}")`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    catalog: str = "{domain}"
    schema_: str = "{source}"

    def namespace(self, *, target: str, domain: str, source: str) -> tuple[str, str]:
        values = {"target": target, "domain": domain, "source": source}
        catalog, schema = self.catalog.format(**values), self.schema_.format(**values)
        for part in (catalog, schema):
            if not _IDENTIFIER.match(part):
                raise ConfigError(f"catalog rule gives '{part}', not an identifier")
        return catalog, schema

    def table(self, name: str, *, target: str, domain: str, source: str) -> TableName:
        catalog, schema = self.namespace(target=target, domain=domain, source=source)
        return TableName(catalog=catalog, schema_=schema, table=name)


class Parameters(BaseModel):
    """Base for a pipeline's or job's parameters: unknown keys rejected, table names validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _table_names(cls, value: Any, info: Any) -> Any:
        field = cls.model_fields[info.field_name]
        if field.annotation is TableName and isinstance(value, str):
            return TableName.parse(value)
        return value


P = TypeVar("P", bound=Parameters)


def _validated(model: type[P], values: dict[str, Any], where: str) -> P:
    try:
        return model(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{where}{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"invalid parameters for {model.__name__}: {problems}") from None
    except ConfigError as exc:
        raise ConfigError(f"invalid parameters for {model.__name__}: {exc}") from None


def from_args(args: Sequence[str], model: type[P], *, other_prefixes: Sequence[str] = ()) -> P:
    """A job's parameters from `--name=value` (or `--name value`) arguments (a Python task's `parameters`).

    Arguments starting with one of `other_prefixes` belong to someone else (an orchestrator's
    bootstrap, say) and are skipped; any other unknown name is an error.
    """
    values: dict[str, Any] = {}
    items = list(args)
    while items:
        flag = items.pop(0)
        if not flag.startswith("--") or ("=" not in flag and not items):
            raise ConfigError(
                f"expected '--name=value' or '--name value' arguments, got '{flag}' in {list(args)}"
            )
        name, value = flag[2:].split("=", 1) if "=" in flag else (flag[2:], items.pop(0))
        name = name.replace("-", "_")
        if not name.startswith(tuple(other_prefixes)):
            values[name] = value
    return _validated(model, values, "--")
