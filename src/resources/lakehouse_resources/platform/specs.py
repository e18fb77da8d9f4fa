"""Strict YAML specs for the bundle's jobs and pipelines (`databricks/specs/{jobs,pipelines}/<domain>/<source>/*.yml`).

The folder names the domain and the source, the file name the asset; the file declares the rest. The
schema rejects unknown keys, names that are not lower snake case and layers outside `naming.LAYERS`;
the rules then check fields against each other (`_rules`), the code a spec deploys against its domain
(`_check_files`) and the specs against each other (one name each, known and acyclic `depends_on`).
The rules read every field that passes its own schema, so one pass reports a file's schema errors,
its rules' and every other file's together, and every error names the file, the field and the rule.
The tables a spec lists (`datasets`) are what Dagster shows as assets, with their expectations as
asset checks; the bundle generator and the `domains` code location both read specs only through
`load_specs`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

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


class Freshness(_Strict):
    """When the table is late: Dagster's time-window freshness policy on its asset (warn, then fail).
    Without one the lakehouse default applies (`lakehouse_resources.automation`)."""

    fail_after_minutes: int = Field(gt=0, description="minutes after its last update the table fails")
    warn_after_minutes: int | None = Field(None, gt=0, description="a warning before it fails")

    @model_validator(mode="after")
    def _warn_before_fail(self) -> Freshness:
        if self.warn_after_minutes is not None and self.warn_after_minutes >= self.fail_after_minutes:
            raise ValueError(
                f"warn_after_minutes ({self.warn_after_minutes}) must be below fail_after_minutes"
                f" ({self.fail_after_minutes})"
            )
        return self


class Dataset(_Strict):
    """One table a job or pipeline writes; named `{domain}_{source}_{layer}_{name}` by the policy."""

    name: Name
    layer: LayerName
    kind: Literal["streaming_table", "materialized_view", "table"] = "table"
    description: str | None = None
    # `<layer>.<name>` of this spec's domain and source, or `<domain>.<source>.<layer>.<name>`.
    depends_on: list[str] = []
    expectations: list[Expectation] = []  # named once each (`_rules`)
    freshness: Freshness | None = None  # this table's, over the spec's


class StreamMonitor(_Strict):
    """Seed 004's alert thresholds for a streaming job's micro-batches."""

    max_trigger_execution_ms: int = Field(45_000, gt=0)
    max_backlog_streak: int = Field(6, gt=0)


class Compute(_Strict):
    """A job cluster (fixed workers), or serverless."""

    serverless: bool = False
    # A one-time run (`run: submit`) on the workspace's interactive cluster (DATABRICKS_CLUSTER_ID).
    existing_cluster: bool = False
    spark_version: str = "15.4.x-scala2.12"
    node_type_id: str | None = None  # None: the target's node_type_id variable
    num_workers: Annotated[int, Field(ge=0)] = 2
    spark_conf: dict[str, str] = {}


class Task(_Strict):
    """One of `python_file`, `notebook` (`_rules`)."""

    key: Name
    python_file: str | None = Field(None, description="relative to the bundle root, e.g. src/<domain>/...")
    notebook: str | None = None
    parameters: dict[str, str] = {}
    depends_on: list[Name] = []

    @property
    def path(self) -> str:
        return self.python_file or self.notebook or ""


class WarehouseInput(_Strict):
    """A table the job reads that no spec writes (dbt's, an ingestion's): `<schema>.<table>` in the
    target's warehouse catalog, and the Dagster asset that writes it (`a/b` key path)."""

    table: str = Field(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
    asset: str = Field(min_length=1)


class JobSpec(_Strict):
    """Task keys once each, depending on keys the job has; never a schedule (Dagster schedules the
    bundle's work, docs/operations.md); a continuous job one run at a time (`_rules`)."""

    layer: LayerName
    description: str | None = None
    tasks: list[Task] = Field(min_length=1)
    compute: Compute = Compute()
    continuous: bool = False
    # Known only to be refused with the reason (`_rules`): Dagster is the bundle's one scheduler.
    schedule: str | None = Field(None, description="Not allowed: Dagster schedules the bundle's work")
    max_concurrent_runs: int = Field(1, ge=1)
    timeout_seconds: int | None = Field(None, gt=0)
    tags: dict[str, str] = {}
    stream_monitor: StreamMonitor | None = None
    datasets: list[Dataset] = []
    # How Dagster runs it: `deployed` runs the bundle's job (found by its deployed name); `submit`
    # submits its one task as a one-time run through lakehouse's Pipes client, on serverless, the
    # existing cluster or a job cluster (`compute`), and the bundle deploys its files but no job.
    run: Literal["deployed", "submit"] = "deployed"
    # Parameter name -> a warehouse table it reads; the task gets the table's full name for the target.
    reads: dict[Name, WarehouseInput] = {}
    env: dict[str, str] = Field({}, description="env vars of a submitted run (`run: submit`)")
    dependencies: list[str] = Field(
        [], description="what a submitted Python task imports beyond the runtime (`run: submit`)"
    )
    checks: list[Name] = Field([], description="asset checks the code reports through Pipes")
    freshness: Freshness | None = Field(
        None, description="for each of its assets, unless a dataset sets its own"
    )


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
    freshness: Freshness | None = Field(
        None, description="for each of its tables, unless a dataset sets its own"
    )


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
        return [resolve_ref(ref.owner.name, dep) for dep in ref.dataset.depends_on]

    def only(self, path: Path) -> SpecSet:
        """The set restricted to one spec file (absolute or relative to the bundle root)."""
        relative = path.resolve().relative_to(self.root.resolve()) if path.is_absolute() else path
        chosen = tuple(s for s in self.specs if s.path == relative)
        if not chosen:
            raise SpecError([f"{path}: not a spec under {self.root / 'specs'}"])
        return SpecSet(self.root, chosen)


def resolve_ref(owner: ResourceName, ref: str) -> ResourceName:
    """A `depends_on` entry of a spec owned by `owner`: `<layer>.<name>` there, or fully qualified."""
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


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(model.model_fields[name].rebuild_annotation())


def _fields(model: type[BaseModel], data: object) -> dict[str, Any]:
    """The fields of `data` that pass `model`'s schema on their own (an absent one takes its default).

    A field that fails is left out, so no rule reads it: its schema error is the one reported.
    """
    if not isinstance(data, dict):
        return {}
    valid: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in data:
            if not info.is_required():
                valid[name] = info.get_default(call_default_factory=True)
            continue
        with suppress(ValidationError):
            valid[name] = _adapter(model, name).validate_python(data[name])
    return valid


@dataclass(frozen=True)
class _Part:
    """One item of a list of models: its position, what the file says and what passes the schema."""

    index: int
    raw: Any
    valid: dict[str, Any]


def _parts(model: type[BaseModel], data: object, name: str) -> list[_Part]:
    items = data.get(name) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    return [_Part(i, item, _fields(model, item)) for i, item in enumerate(items)]


def _doubled(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def _rules(valid: dict[str, Any], tasks: list[_Part], datasets: list[_Part]) -> Iterator[str]:
    """Fields checked against each other, on whatever passed the schema: `<field> ... <rule>`."""
    for dataset in datasets:
        expectations = _parts(Expectation, dataset.raw, "expectations")
        doubled = _doubled([e.valid["name"] for e in expectations if "name" in e.valid])
        if doubled:
            yield f"datasets[{dataset.index}].expectations: expectations named twice: {', '.join(doubled)}"
    doubled = _doubled([task.valid["key"] for task in tasks if "key" in task.valid])
    if doubled:
        yield f"tasks: task keys used twice: {', '.join(doubled)}"
    # Any key the file gives counts as declared: a bad one is reported where it is, not where it is used.
    declared = {task.raw.get("key") for task in tasks if isinstance(task.raw, dict)}
    for task in tasks:
        kinds = [task.valid[kind] for kind in ("python_file", "notebook") if kind in task.valid]
        if len(kinds) == 2 and (kinds[0] is None) == (kinds[1] is None):
            yield f"tasks[{task.index}]: a task needs exactly one of python_file, notebook"
        unknown = [dep for dep in task.valid.get("depends_on", []) if dep not in declared]
        if unknown:
            label = task.valid.get("key", f"#{task.index}")
            yield f"tasks[{task.index}].depends_on: task {label} depends on unknown tasks {', '.join(unknown)}"
    if valid.get("schedule"):
        yield (
            "schedule: the bundle deploys no schedule, Dagster schedules its work (automation"
            " conditions and sensors, docs/operations.md); remove it"
        )
    runs = valid.get("max_concurrent_runs", 1)
    if valid.get("continuous") is True and runs > 1:
        yield (
            f"max_concurrent_runs {runs} with continuous: true: Databricks runs a continuous job"
            " one run at a time (max_concurrent_runs 1)"
        )
    yield from _submit_rules(valid, tasks)


def _submit_rules(valid: dict[str, Any], tasks: list[_Part]) -> Iterator[str]:
    """A one-time run is one task that ends; the submit-only fields need `run: submit`."""
    compute = valid.get("compute")
    if isinstance(compute, Compute) and compute.serverless and compute.existing_cluster:
        yield "compute: serverless and existing_cluster exclude each other"
    if valid.get("run") != "submit":
        if isinstance(compute, Compute) and compute.existing_cluster:
            yield "compute.existing_cluster: only a submitted run (run: submit) uses the existing cluster"
        for name in ("env", "dependencies"):
            if valid.get(name):
                yield f"{name}: only a submitted run (run: submit) takes {name}; a deployed job declares its own"
        return
    if len(tasks) != 1:
        yield f"tasks: a submitted run (run: submit) is one task, not {len(tasks)}"
    for name in ("continuous", "stream_monitor"):
        if valid.get(name):
            yield f"{name}: a submitted run (run: submit) ends; a continuous or monitored stream is deployed"


def _check_files(
    root: Path, domain: str, source: str, tasks: list[_Part], libraries: object
) -> Iterator[str]:
    """The code a spec deploys exists under `src/<domain>/<source>/`."""
    fields = [
        (f"tasks[{task.index}].{kind}", task.valid[kind])
        for task in tasks
        for kind in ("python_file", "notebook")
        if isinstance(task.valid.get(kind), str)
    ]
    if isinstance(libraries, list):
        fields += [(f"libraries[{i}]", lib) for i, lib in enumerate(libraries) if isinstance(lib, str)]
    expected = Path("src", domain, source)
    for name, value in fields:
        path = Path(value)
        if path.is_absolute() or ".." in path.parts or path.parts[:3] != expected.parts:
            yield f"{name} {value!r} must be a path under {expected}/"
        elif not (root / path).exists() and not (root / path).with_suffix(".py").exists():
            yield f"{name} {value!r} does not exist"


@dataclass(frozen=True)
class _Table:
    name: ResourceName
    index: int  # in the file's `datasets`
    depends_on: list[str] | None  # None: it fails its schema


@dataclass
class _File:
    """One spec file as far as it could be read: its problems, and what it declares to the others."""

    relative: Path
    kind: Literal["jobs", "pipelines"]
    problems: list[str] = field(default_factory=list)
    place: tuple[str, str] | None = None  # domain and source, when the path is valid
    name: ResourceName | None = None  # the job or pipeline, when its path and layer are valid
    tables: list[_Table] = field(default_factory=list)
    complete: bool = False  # every table it declares is in `tables`
    loaded: LoadedSpec | None = None  # when its schema passes

    @property
    def resource_type(self) -> str:
        return "job" if self.kind == "jobs" else "pipeline"


def _read(root: Path, path: Path, kind: Literal["jobs", "pipelines"]) -> _File:
    relative = path.relative_to(root)
    file = _File(relative, kind)
    parts = relative.parts  # specs/<kind>/<domain>/<source>/<asset>.yml
    if len(parts) != 5:
        file.problems.append(f"{relative}: specs live in specs/{kind}/<domain>/<source>/<asset>.yml")
    else:
        named = {"domain": parts[2], "source": parts[3], "asset": path.stem}
        bad = []
        for what, value in named.items():
            try:
                check_name(f"{what} (from the path)", value)
            except NamingError as exc:
                bad.append(f"{relative}: {exc}")
        file.problems += bad
        if not bad:
            file.place = (parts[2], parts[3])
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        file.problems.append(f"{relative}: not valid YAML: {exc}")
        return file
    if not isinstance(document, dict):
        file.problems.append(f"{relative}: expected a mapping of spec fields")
        return file

    model = JobSpec if kind == "jobs" else PipelineSpec
    spec: JobSpec | PipelineSpec | None = None
    try:
        spec = model.model_validate(document)
    except ValidationError as exc:
        file.problems += [_format(relative, error) for error in exc.errors()]
    valid = _fields(model, document)
    tasks = _parts(Task, document, "tasks") if kind == "jobs" else []
    datasets = _parts(Dataset, document, "datasets")
    file.problems += [f"{relative}: {problem}" for problem in _rules(valid, tasks, datasets)]
    if file.place is None:
        return file  # the rules below need the domain and the source

    domain, source = file.place
    libraries = document.get("libraries") if kind == "pipelines" else None
    file.problems += [f"{relative}: {p}" for p in _check_files(root, domain, source, tasks, libraries)]
    if "layer" in valid:
        file.name = ResourceName(domain, source, Layer(valid["layer"]), path.stem)
    for dataset in datasets:
        if "name" in dataset.valid and "layer" in dataset.valid:
            table = ResourceName(domain, source, Layer(dataset.valid["layer"]), dataset.valid["name"])
            file.tables.append(_Table(table, dataset.index, dataset.valid.get("depends_on")))
    declared = document.get("datasets", [])
    file.complete = isinstance(declared, list) and len(file.tables) == len(declared)
    if spec is not None and file.name is not None:
        file.loaded = LoadedSpec(kind, relative, file.name, spec)
    return file


def _spec_files(root: Path) -> Iterator[tuple[Path, Literal["jobs", "pipelines"]]]:
    for kind in SPEC_KINDS:
        folder = root / "specs" / kind
        for pattern in ("*.yml", "*.yaml"):
            for path in sorted(folder.rglob(pattern)):
                yield path, kind  # type: ignore[misc]


def load_specs(root: Path, *, only: Path | None = None) -> SpecSet:
    """Every spec under `<root>/specs`, validated together; raises SpecError listing every problem.

    Besides each file's schema and rules, the set must not produce one name twice (a resource key, or
    a table), every `depends_on` must name a table some spec declares, and no table may depend on
    itself through others. A file with schema errors still takes part with what passes its schema.
    """
    files = [_read(root, path, kind) for path, kind in _spec_files(root)]
    problems = [problem for file in files for problem in file.problems]
    problems += _check_names(files)
    problems += _check_dependencies(files)
    if problems:
        raise SpecError(problems)
    loaded = [file.loaded for file in files if file.loaded is not None]
    assert len(loaded) == len(files), "a spec without problems loads"
    specs = SpecSet(root, tuple(loaded))
    return specs.only(only) if only is not None else specs


def _check_names(files: list[_File]) -> Iterator[str]:
    owners: dict[str, list[str]] = {}
    for file in files:
        own = file.name.key if file.name is not None else None
        if own is not None:
            owners.setdefault(own, []).append(f"{file.relative} ({file.resource_type})")
        for table in file.tables:
            if table.name.key != own:
                dataset = f"{table.name.layer}.{table.name.asset}"
                owners.setdefault(table.name.key, []).append(f"{file.relative} (dataset {dataset})")
    for key, where in sorted(owners.items()):
        if len(where) > 1:
            yield f"name {key!r} is produced by more than one spec: {' and '.join(where)}"


def _check_dependencies(files: list[_File]) -> Iterator[str]:
    known = {table.name for file in files for table in file.tables}
    # A table of a file whose datasets are not all read may exist: its file's errors are reported.
    unread = {file.place for file in files if file.place is not None and not file.complete}
    edges: dict[tuple[str, str], str] = {}
    for file in files:
        for table in file.tables:
            for i, dep in enumerate(table.depends_on or []):
                where = f"{file.relative}: datasets[{table.index}].depends_on[{i}]"
                try:
                    target = resolve_ref(table.name, dep)
                except NamingError as exc:
                    yield f"{where} {exc}"
                    continue
                if target == table.name:
                    yield f"{where} {dep!r} is the dataset itself"
                elif target in known:
                    edges.setdefault((table.name.key, target.key), where)
                elif (target.domain, target.source) not in unread:
                    yield f"{where} {dep!r} is no dataset of any spec (expected {target.key})"
    yield from _check_cycles(edges)


def _check_cycles(edges: dict[tuple[str, str], str]) -> Iterator[str]:
    """One cycle through each dependency that lies on one, each cycle once, from its least table."""
    after: dict[str, list[str]] = {}
    for source, target in sorted(edges):
        after.setdefault(source, []).append(target)
    covered: set[tuple[str, str]] = set()
    for source, target in sorted(edges):
        if (source, target) in covered:
            continue
        back = _shortest_path(after, target, source)
        if back is None:
            continue
        tables = [source, *back[:-1]]
        first = tables.index(min(tables))
        tables = tables[first:] + tables[:first]
        steps = list(zip(tables, [*tables[1:], tables[0]], strict=True))
        covered.update(steps)
        fields = " and ".join(edges[step] for step in steps)
        yield f"{fields}: dependency cycle: {' -> '.join([*tables, tables[0]])}"


def _shortest_path(after: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """The tables from `start` to `goal` along `after`, both included, or None if there is no way."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while (step := previous[path[-1]]) is not None:
                path.append(step)
            return path[::-1]
        for following in after.get(node, []):
            if following not in previous:
                previous[following] = node
                queue.append(following)
    return None
