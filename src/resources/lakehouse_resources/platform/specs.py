"""Strict YAML specs for the bundle's jobs and pipelines (`databricks/specs/{jobs,pipelines}/<domain>/<source>/*.yml`).

The folder names the domain and the source, the file name the asset; the file declares the rest. The
schema rejects unknown keys, names that are not lower snake case and layers outside `naming.LAYERS`,
and every error names the file, the field and the rule. The tables a spec lists (`datasets`) are what
Dagster shows as assets, with their expectations as asset checks; the bundle generator and the
`domains` code location both read specs only through `load_specs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from lakehouse_resources.platform.naming import Layer, NamingError, ResourceName, check_layer, check_name

SPEC_KINDS = ("jobs", "pipelines")


def _snake(value: str) -> str:
    try:
        check_name("", value)
    except NamingError:
        raise ValueError(f"{value!r} is not lower snake case (a-z, 0-9, single underscores)") from None
    return value


def _layer(value: str) -> Layer:
    try:
        return check_layer(value)
    except NamingError as exc:
        raise ValueError(str(exc).removeprefix("layer ")) from None


Name = Annotated[str, AfterValidator(_snake)]
LayerName = Annotated[str, AfterValidator(_layer)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Expectation(_Strict):
    """A data quality rule, with Databricks' three actions: warn keeps the row, drop removes it,
    fail stops the update. `tolerance` is the share of rows that may violate the rule before the
    Dagster check fails (0 = none)."""

    name: Name
    condition: str = Field(min_length=1, description="SQL boolean expression a valid row satisfies")
    action: Literal["warn", "drop", "fail"] = "warn"
    tolerance: float = Field(0.0, ge=0.0, le=1.0)


class Dataset(_Strict):
    """One table a job or pipeline writes; named `{domain}_{source}_{layer}_{name}` by the policy."""

    name: Name
    layer: LayerName
    kind: Literal["streaming_table", "materialized_view", "table"] = "table"
    description: str | None = None
    # `<layer>.<name>` of this spec's domain and source, or `<domain>.<source>.<layer>.<name>`.
    depends_on: list[str] = []
    expectations: list[Expectation] = []

    @model_validator(mode="after")
    def _unique_expectations(self) -> Dataset:
        names = [e.name for e in self.expectations]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"expectations named twice: {', '.join(doubled)}")
        return self


class StreamMonitor(_Strict):
    """Seed 004's alert thresholds for a streaming job's micro-batches."""

    max_trigger_execution_ms: int = Field(45_000, gt=0)
    max_backlog_streak: int = Field(6, gt=0)


class Compute(_Strict):
    """A job cluster (fixed workers), or serverless."""

    serverless: bool = False
    spark_version: str = "15.4.x-scala2.12"
    node_type_id: str = "i3.xlarge"
    num_workers: Annotated[int, Field(ge=0)] = 2
    spark_conf: dict[str, str] = {}


class Task(_Strict):
    key: Name
    python_file: str | None = Field(None, description="relative to the bundle root, e.g. src/<domain>/...")
    notebook: str | None = None
    parameters: dict[str, str] = {}
    depends_on: list[Name] = []

    @model_validator(mode="after")
    def _one_kind(self) -> Task:
        if (self.python_file is None) == (self.notebook is None):
            raise ValueError("a task needs exactly one of python_file, notebook")
        return self

    @property
    def path(self) -> str:
        return self.python_file or self.notebook or ""


class JobSpec(_Strict):
    layer: LayerName
    description: str | None = None
    tasks: list[Task] = Field(min_length=1)
    compute: Compute = Compute()
    continuous: bool = False
    schedule: str | None = Field(None, description="Quartz cron expression (UTC)")
    max_concurrent_runs: int = Field(1, ge=1)
    timeout_seconds: int | None = Field(None, gt=0)
    tags: dict[str, str] = {}
    stream_monitor: StreamMonitor | None = None
    datasets: list[Dataset] = []

    @model_validator(mode="after")
    def _task_graph(self) -> JobSpec:
        keys = [task.key for task in self.tasks]
        doubled = sorted({k for k in keys if keys.count(k) > 1})
        if doubled:
            raise ValueError(f"task keys used twice: {', '.join(doubled)}")
        for task in self.tasks:
            unknown = [dep for dep in task.depends_on if dep not in keys]
            if unknown:
                raise ValueError(f"task {task.key} depends on unknown tasks {', '.join(unknown)}")
        if self.continuous and self.schedule:
            raise ValueError("a job is either continuous or scheduled, not both")
        return self


class PipelineSpec(_Strict):
    layer: LayerName = Field(description="the layer the pipeline delivers (its last)")
    description: str | None = None
    libraries: list[str] = Field(
        min_length=1, description="source files or folders, relative to the bundle root"
    )
    continuous: bool = False
    serverless: bool = True
    channel: Literal["CURRENT", "PREVIEW"] = "CURRENT"
    configuration: dict[str, str] = {}
    datasets: list[Dataset] = Field(min_length=1)


# ---- loading ---------------------------------------------------------------------------------


class SpecError(ValueError):
    """One or more bad specs; each line names the file, the field and the rule."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class TableRef:
    """A dataset as the policy names it, with the spec that owns it."""

    name: ResourceName
    dataset: Dataset
    owner: LoadedSpec

    @property
    def key(self) -> str:
        return self.name.key


@dataclass(frozen=True)
class LoadedSpec:
    kind: Literal["jobs", "pipelines"]
    path: Path  # relative to the bundle root
    name: ResourceName
    spec: JobSpec | PipelineSpec

    @property
    def key(self) -> str:
        return self.name.key

    @property
    def resource_type(self) -> Literal["job", "pipeline"]:
        return "job" if self.kind == "jobs" else "pipeline"

    def tables(self) -> list[ResourceName]:
        return [self.table_name(dataset) for dataset in self.spec.datasets]

    def table_name(self, dataset: Dataset) -> ResourceName:
        return ResourceName(self.name.domain, self.name.source, Layer(dataset.layer), dataset.name)

    def source_paths(self) -> list[str]:
        """Bundle-relative files and folders this resource deploys (what the deployment scope reads)."""
        if isinstance(self.spec, JobSpec):
            return [task.path for task in self.spec.tasks]
        return list(self.spec.libraries)


@dataclass(frozen=True)
class SpecSet:
    root: Path
    specs: tuple[LoadedSpec, ...]

    @property
    def jobs(self) -> list[LoadedSpec]:
        return [s for s in self.specs if s.kind == "jobs"]

    @property
    def pipelines(self) -> list[LoadedSpec]:
        return [s for s in self.specs if s.kind == "pipelines"]

    def tables(self) -> Iterator[TableRef]:
        for spec in self.specs:
            for dataset in spec.spec.datasets:
                yield TableRef(spec.table_name(dataset), dataset, spec)

    def table(self, name: ResourceName) -> TableRef:
        for ref in self.tables():
            if ref.name == name:
                return ref
        raise KeyError(name.key)

    def dependencies(self, ref: TableRef) -> list[ResourceName]:
        return [_resolve_ref(ref.owner.name, dep) for dep in ref.dataset.depends_on]

    def only(self, path: Path) -> SpecSet:
        """The set restricted to one spec file (absolute or relative to the bundle root)."""
        relative = path.resolve().relative_to(self.root.resolve()) if path.is_absolute() else path
        chosen = tuple(s for s in self.specs if s.path == relative)
        if not chosen:
            raise SpecError([f"{path}: not a spec under {self.root / 'specs'}"])
        return SpecSet(self.root, chosen)


def _resolve_ref(owner: ResourceName, ref: str) -> ResourceName:
    parts = ref.split(".")
    if len(parts) == 2:
        return ResourceName(owner.domain, owner.source, Layer(check_layer(parts[0])), parts[1])
    if len(parts) == 4:
        return ResourceName(parts[0], parts[1], check_layer(parts[2]), parts[3])
    raise NamingError(f"{ref!r} is neither <layer>.<name> nor <domain>.<source>.<layer>.<name>")


def _field(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith("function-"):
            text += f".{part}" if text else str(part)
    return text


def _format(relative: Path, error: Any) -> str:
    where = _field(tuple(error["loc"]))
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return f"{relative}: {where} is not a known key"
    if kind == "missing":
        return f"{relative}: {where} is required"
    if kind == "value_error" and where.endswith("layer"):
        return f"{relative}: {where} {message}"  # "layer 'gold' is not one of ..."
    if kind == "value_error" and message.startswith("'"):
        return f"{relative}: {where} {message}"
    return f"{relative}: {where + ': ' if where else ''}{message}"


def _parse(root: Path, path: Path, kind: Literal["jobs", "pipelines"]) -> LoadedSpec:
    relative = path.relative_to(root)
    parts = relative.parts  # specs/<kind>/<domain>/<source>/<asset>.yml
    if len(parts) != 5:
        raise SpecError([f"{relative}: specs live in specs/{kind}/<domain>/<source>/<asset>.yml"])
    try:
        name_fields = {"domain": parts[2], "source": parts[3], "asset": path.stem}
        for field, value in name_fields.items():
            check_name(f"{field} (from the path)", value)
    except NamingError as exc:
        raise SpecError([f"{relative}: {exc}"]) from None
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError([f"{relative}: not valid YAML: {exc}"]) from None
    if not isinstance(document, dict):
        raise SpecError([f"{relative}: expected a mapping of spec fields"])
    model = JobSpec if kind == "jobs" else PipelineSpec
    try:
        spec = model.model_validate(document)
    except ValidationError as exc:
        raise SpecError([_format(relative, error) for error in exc.errors()]) from None
    name = ResourceName(parts[2], parts[3], Layer(spec.layer), path.stem)
    loaded = LoadedSpec(kind, relative, name, spec)
    problems = [f"{relative}: {p}" for p in _check_files(root, loaded)]
    if problems:
        raise SpecError(problems)
    return loaded


def _check_files(root: Path, loaded: LoadedSpec) -> Iterator[str]:
    spec = loaded.spec
    fields = (
        [
            (f"tasks[{i}].{'python_file' if t.python_file else 'notebook'}", t.path)
            for i, t in enumerate(spec.tasks)
        ]
        if isinstance(spec, JobSpec)
        else [(f"libraries[{i}]", lib) for i, lib in enumerate(spec.libraries)]
    )
    expected = Path("src", loaded.name.domain, loaded.name.source)
    for field, value in fields:
        path = Path(value)
        if path.is_absolute() or ".." in path.parts or path.parts[:3] != expected.parts:
            yield f"{field} {value!r} must be a path under {expected}/"
        elif not (root / path).exists() and not (root / path).with_suffix(".py").exists():
            yield f"{field} {value!r} does not exist"


def _spec_files(root: Path) -> Iterator[tuple[Path, Literal["jobs", "pipelines"]]]:
    for kind in SPEC_KINDS:
        folder = root / "specs" / kind
        for pattern in ("*.yml", "*.yaml"):
            for path in sorted(folder.rglob(pattern)):
                yield path, kind  # type: ignore[misc]


def load_specs(root: Path, *, only: Path | None = None) -> SpecSet:
    """Every spec under `<root>/specs`, validated together; raises SpecError listing every problem.

    Besides each file's schema, the set must not produce one name twice (a resource key, or a table)
    and every `depends_on` must name a table some spec declares.
    """
    problems: list[str] = []
    loaded: list[LoadedSpec] = []
    for path, kind in _spec_files(root):
        try:
            loaded.append(_parse(root, path, kind))
        except SpecError as exc:
            problems += exc.problems
    problems += _check_names(loaded)
    specs = SpecSet(root, tuple(loaded))
    problems += _check_dependencies(specs)
    if problems:
        raise SpecError(problems)
    return specs.only(only) if only is not None else specs


def _check_names(loaded: list[LoadedSpec]) -> Iterator[str]:
    owners: dict[str, list[str]] = {}
    for spec in loaded:
        owners.setdefault(spec.key, []).append(f"{spec.path} ({spec.resource_type})")
        for dataset in spec.spec.datasets:
            key = spec.table_name(dataset).key
            if key != spec.key:
                owners.setdefault(key, []).append(f"{spec.path} (dataset {dataset.layer}.{dataset.name})")
    for key, where in sorted(owners.items()):
        if len(where) > 1:
            yield f"name {key!r} is produced by more than one spec: {' and '.join(where)}"


def _check_dependencies(specs: SpecSet) -> Iterator[str]:
    known = {ref.name for ref in specs.tables()}
    for ref in specs.tables():
        for i, dep in enumerate(ref.dataset.depends_on):
            index = ref.owner.spec.datasets.index(ref.dataset)
            where = f"{ref.owner.path}: datasets[{index}].depends_on[{i}]"
            try:
                target = _resolve_ref(ref.owner.name, dep)
            except NamingError as exc:
                yield f"{where} {exc}"
                continue
            if target not in known:
                yield f"{where} {dep!r} is no dataset of any spec (expected {target.key})"
            elif target == ref.name:
                yield f"{where} {dep!r} is the dataset itself"
