"""`@dbt_assets` without re-deriving 2,000 specs on every Definitions load.

With a 1,000-model project, dagster-dbt spent ~0.7 s of each load on the same work: importing
dbt's graph selector and networkx, building a dbt graph to resolve `fqn:*`, and calling the
translator per node. Here its `build_dbt_specs` runs once per manifest and the specs are pickled
next to the manifest, keyed by the manifest's SHA-256, the dagster/dagster-dbt versions, this
module's source and the translator (class, settings and the source of its module and of its
lakehouse base classes); any change to those rebuilds them. The manifest and translator objects in
the specs' metadata are not stored: the live translator is put back on load, and the manifest as
one wrapper that parses it when run-time code (DbtCliResource.cli) first reads it, so that code sees
what `@dbt_assets` would have given it while a load never parses it. dagster-dbt's project entry is
left out of the specs (`_without_project`; the translator carries the project instead).
A load from the cache runs with the garbage collector paused (`collection_paused`).
"""

from __future__ import annotations

import gc
import hashlib
import inspect
import io
import os
import pickle
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
from dagster.version import __version__ as dagster_version
from dagster_dbt import DagsterDbtTranslator, DbtProject
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_PROJECT_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DBT_DEFAULT_SELECT,
    build_dbt_specs,
)
from dagster_dbt.dagster_dbt_translator import DbtManifestWrapper as _StockWrapper
from dagster_dbt.version import __version__ as dagster_dbt_version
from dagster_shared.check.record import is_record
from lakehouse_resources.specs import knowingly_beta

Specs = tuple[Sequence[dg.AssetSpec], Sequence[dg.AssetCheckSpec]]


class DbtManifestWrapper(_StockWrapper):
    """dagster-dbt's manifest wrapper, parsing the manifest bytes on first use.

    Only run-time code reads it (`DbtCliResource.cli` through the asset's metadata), so a load
    that serves specs from the cache never parses the manifest: ~0.25 s of `orjson.loads` and
    ~200,000 objects at 5,000 models that every later garbage collection of the process would
    traverse. It holds the bytes the cache key was computed from, so a manifest rewritten after
    the load cannot disagree with the specs. One instance is shared by every spec. Same class name
    as dagster-dbt's: the catalog shows the entry as `[DbtManifestWrapper] (unserializable)`.
    """

    def __init__(self, raw: bytes) -> None:  # pyright: ignore[reportMissingSuperCall]
        self._raw = raw
        self._parsed: Mapping[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def manifest(self) -> Mapping[str, Any]:  # pyright: ignore[reportIncompatibleVariableOverride]
        parsed = self._parsed
        if parsed is None:
            with self._lock:
                parsed = self._parsed
                if parsed is None:
                    parsed = self._parsed = orjson.loads(self._raw)
        return parsed

    @property
    def parsed(self) -> bool:
        return self._parsed is not None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _StockWrapper):
            return self.manifest == other.manifest
        return NotImplemented

    __hash__ = None  # pyright: ignore[reportAssignmentType]

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles: the bytes, not the lock
        return type(self), (self._raw,)

    def __repr__(self) -> str:
        return f"DbtManifestWrapper({len(self._raw)} bytes, {'parsed' if self.parsed else 'not parsed yet'})"


# What dagster-dbt memoizes on a translator once it has built specs: not its configuration, and
# in the key it made a second load with the same translator in one process miss the cache.
_MEMOS = ("_resolved_specs", "_colliding_source_keys_cache")


def _stable(value: object) -> object:
    """A translator attribute as the key sees it: a DbtProject by its folder (its repr carries its
    preparer's memory address, which would make every process miss the cache)."""
    return str(value.project_dir) if isinstance(value, DbtProject) else value


def _cache_key(manifest_bytes: bytes, translator: DagsterDbtTranslator) -> str:
    digest = hashlib.sha256(manifest_bytes)
    kind = type(translator)
    # Our translator and every base class of ours it inherits from (dagster-dbt's own are covered
    # by its version), and this module: what it stores may change with it.
    sources = sorted(
        {
            __file__,
            *(
                inspect.getsourcefile(base) or ""
                for base in kind.__mro__
                if base.__module__.startswith("lakehouse_")
            ),
        }
    )
    for part in (
        dagster_version,
        dagster_dbt_version,
        f"{kind.__module__}.{kind.__qualname__}",
        repr(
            sorted((name, _stable(value)) for name, value in vars(translator).items() if name not in _MEMOS)
        ),
        *(Path(source).read_bytes() for source in sources if source),
    ):
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()[:32]


class _Pickler(pickle.Pickler):
    def __init__(
        self,
        file: io.BytesIO,
        manifest: Mapping[str, Any],
        translator: DagsterDbtTranslator,
        project: DbtProject | None,
    ) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.manifest = manifest
        self.translator = translator
        self.project = project

    def persistent_id(self, obj: Any) -> str | None:
        if obj is self.translator:
            return "translator"
        if obj is not None and obj is self.project:
            return "project"
        if isinstance(obj, _StockWrapper) and obj.manifest is self.manifest:
            return "manifest_wrapper"  # one lazy wrapper on load, for every spec
        if obj is self.manifest:
            return "manifest"  # the manifest reached other than through a wrapper
        return None

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
    def __init__(
        self,
        file: io.BytesIO,
        wrapper: DbtManifestWrapper,
        translator: DagsterDbtTranslator,
        project: DbtProject | None,
    ) -> None:
        super().__init__(file)
        self.wrapper = wrapper
        self.translator = translator
        self.project = project

    def persistent_load(self, pid: Any) -> Any:
        if pid == "translator":
            return self.translator
        if pid == "project":
            return self.project
        if pid == "manifest_wrapper":
            return self.wrapper
        if pid == "manifest":
            return self.wrapper.manifest
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while ~40 objects per model are built that all stay alive.

    CPython collects the young objects every 700 allocations and all of them whenever the survivors
    grew by a quarter, and a full collection traverses every live object: at 5,000 models the
    collections during this build took ~0.9 s of its ~1.9 s and freed next to nothing. The
    collector is restored afterwards (as it was: a caller that disabled it keeps it off).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _without_project(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec without dagster-dbt's `dagster_dbt/project` entry, which the UI would show as
    "[DbtProject] (unserializable)"; the translator supplies the project at run time instead."""
    if DAGSTER_DBT_PROJECT_METADATA_KEY not in spec.metadata:
        return spec
    metadata = {k: v for k, v in spec.metadata.items() if k != DAGSTER_DBT_PROJECT_METADATA_KEY}
    return spec.replace_attributes(metadata=metadata)


def _load_or_build(
    manifest_path: Path, translator: DagsterDbtTranslator, project: DbtProject | None
) -> Specs:
    raw = manifest_path.read_bytes()
    cache = manifest_path.with_name(f"dagster_specs.{_cache_key(raw, translator)}.pickle")
    if cache.exists():
        try:
            with collection_paused():
                return _Unpickler(
                    io.BytesIO(cache.read_bytes()), DbtManifestWrapper(raw), translator, project
                ).load()
        except Exception:
            pass
    manifest = orjson.loads(raw)
    with knowingly_beta():  # dagster-dbt's code references
        asset_specs, check_specs = build_dbt_specs(
            translator=translator,
            manifest=manifest,
            select=DBT_DEFAULT_SELECT,
            exclude="",
            selector="",
            io_manager_key=None,
            project=project,
        )
    specs = ([_without_project(spec) for spec in asset_specs], check_specs)
    buffer = io.BytesIO()
    _Pickler(buffer, manifest, translator, project).dump(specs)
    for stale in manifest_path.parent.glob("dagster_specs.*.pickle"):
        stale.unlink(missing_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(buffer.getvalue())
    partial.replace(cache)  # atomic: a concurrent load sees the old file or the whole new one
    return specs


def cached_dbt_assets(
    *,
    manifest_path: Path,
    translator: DagsterDbtTranslator,
    project: DbtProject | None,
    name: str,
    pool: str | None = None,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """Same AssetsDefinition as `@dbt_assets(manifest=..., select="fqn:*")`, specs from the cache."""

    def decorate(fn: Callable[..., Any]) -> dg.AssetsDefinition:
        specs, check_specs = _load_or_build(manifest_path, translator, project)
        with collection_paused():
            return dg.multi_asset(
                name=name,
                specs=specs,
                check_specs=check_specs,
                can_subset=True,
                op_tags={DAGSTER_DBT_SELECT_METADATA_KEY: DBT_DEFAULT_SELECT},
                pool=pool,
                allow_arbitrary_check_specs=True,
            )(fn)

    return decorate
