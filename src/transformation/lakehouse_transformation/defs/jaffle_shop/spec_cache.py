"""`@dbt_assets` without re-deriving 2,000 specs on every Definitions load.

With a 1,000-model project, dagster-dbt spent ~0.7 s of each load on the same work: importing
dbt's graph selector and networkx, building a dbt graph to resolve `fqn:*`, and calling the
translator per node. Here its `build_dbt_specs` runs once per manifest and the specs are pickled
next to the manifest, keyed by the manifest's SHA-256, the dagster/dagster-dbt versions and the
translator (class, settings and the source of its module and of its lakehouse base classes); any change to those rebuilds them. The manifest
and translator objects in the specs' metadata are not stored: the live ones are put back on load,
so run-time code (DbtCliResource.cli) sees exactly what `@dbt_assets` would have given it.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
from dagster.version import __version__ as dagster_version
from dagster_dbt import DagsterDbtTranslator, DbtProject
from dagster_dbt.asset_utils import DAGSTER_DBT_SELECT_METADATA_KEY, DBT_DEFAULT_SELECT, build_dbt_specs
from dagster_dbt.version import __version__ as dagster_dbt_version
from dagster_shared.check.record import is_record
from lakehouse_resources.specs import knowingly_beta

Specs = tuple[Sequence[dg.AssetSpec], Sequence[dg.AssetCheckSpec]]
_LIVE = ("manifest", "translator")


def _cache_key(manifest_bytes: bytes, translator: DagsterDbtTranslator) -> str:
    digest = hashlib.sha256(manifest_bytes)
    kind = type(translator)
    # Our translator and every base class of ours it inherits from (dagster-dbt's own are covered
    # by its version).
    sources = sorted(
        {
            inspect.getsourcefile(base) or ""
            for base in kind.__mro__
            if base.__module__.startswith("lakehouse_")
        }
    )
    for part in (
        dagster_version,
        dagster_dbt_version,
        f"{kind.__module__}.{kind.__qualname__}",
        repr(sorted(vars(translator).items())),
        *(Path(source).read_bytes() for source in sources if source),
    ):
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()[:32]


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, live: Mapping[int, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.live = live

    def persistent_id(self, obj: Any) -> str | None:
        return self.live.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        # Dagster's NamedTuple classes (AssetDep, ...) take keyword-only arguments in `__new__`,
        # which default namedtuple pickling calls positionally; rebuild them from their fields
        # instead, as @record's own pickle support does.
        if isinstance(obj, tuple) and hasattr(obj, "_fields") and not is_record(obj):
            return _namedtuple, (type(obj), tuple(obj))
        return NotImplemented


def _namedtuple(kind: type[tuple], values: tuple) -> tuple:
    return tuple.__new__(kind, values)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, live: Mapping[str, Any]) -> None:
        super().__init__(file)
        self.live = live

    def persistent_load(self, pid: Any) -> Any:
        return self.live[pid]


def _load_or_build(
    manifest_path: Path, translator: DagsterDbtTranslator, project: DbtProject | None
) -> tuple[Mapping[str, Any], Specs]:
    raw = manifest_path.read_bytes()
    manifest = orjson.loads(raw)
    cache = manifest_path.with_name(f"dagster_specs.{_cache_key(raw, translator)}.pickle")
    live = {"manifest": manifest, "translator": translator}
    if cache.exists():
        try:
            return manifest, _Unpickler(io.BytesIO(cache.read_bytes()), live).load()
        except Exception:
            pass
    with knowingly_beta():  # dagster-dbt's code references
        specs = build_dbt_specs(
            translator=translator,
            manifest=manifest,
            select=DBT_DEFAULT_SELECT,
            exclude="",
            selector="",
            io_manager_key=None,
            project=project,
        )
    buffer = io.BytesIO()
    _Pickler(buffer, {id(manifest): "manifest", id(translator): "translator"}).dump(specs)
    for stale in manifest_path.parent.glob("dagster_specs.*.pickle"):
        stale.unlink(missing_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(buffer.getvalue())
    partial.replace(cache)  # atomic: a concurrent load sees the old file or the whole new one
    return manifest, specs


def cached_dbt_assets(
    *,
    manifest_path: Path,
    translator: DagsterDbtTranslator,
    project: DbtProject | None,
    name: str,
    pool: str | None = None,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """Same AssetsDefinition as `@dbt_assets(manifest=..., select="fqn:*")`, specs from the cache."""
    _, (specs, check_specs) = _load_or_build(manifest_path, translator, project)
    return dg.multi_asset(
        name=name,
        specs=specs,
        check_specs=check_specs,
        can_subset=True,
        op_tags={DAGSTER_DBT_SELECT_METADATA_KEY: DBT_DEFAULT_SELECT},
        pool=pool,
        allow_arbitrary_check_specs=True,
    )
