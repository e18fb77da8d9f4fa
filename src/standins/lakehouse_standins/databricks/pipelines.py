"""Pipelines API (`/api/2.0/pipelines`): declarative pipelines that really run on the local Spark.

Fields as in `databricks.sdk.service.pipelines` (contracts.md, "declarative pipelines"). An update
writes the pipeline's spec as a `spark-pipeline.yml` (its libraries linked into the update's folder,
its `root_path` on PYTHONPATH, `/Volumes/...` configuration values given their local folder) and runs
`spark-pipelines run` (its Python CLI, `SPARK_REMOTE` naming the stand-in's Spark Connect server) in
a child process. Its flow lines become `flow_progress` events; after the run each flow's table is counted for
`metrics.num_output_rows` (a materialized view's whole table, a streaming table's new rows).

Expectations: open-source declarative pipelines have none. A pipeline written with `data_ops`
applies them itself and prints what it counted (`DATA_OPS_EXPECTATIONS` lines, already in the
`data_quality` shape, dropped rows included); those counts are reported as they are. For other
pipelines `data_quality` is the stand-in's estimate from the tables the update left: for each rule
the pipeline's configuration names (`lakehouse.expectations.<layer>.<name>`, a JSON list), the rows
of the output that meet it and those that do not; rules that drop or fail leave no violating row
behind, so their `failed_records` is 0 there where Databricks counts the rows it dropped.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from lakehouse_resources.processes import start_child, stop_group
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lakehouse_standins.databricks.errors import ApiError, answers_api_errors
from lakehouse_standins.databricks.spark_runtime import (
    SparkServer,
    SparkUnavailable,
    private_session,
)
from lakehouse_standins.databricks.table_rows import row_counts
from lakehouse_standins.databricks.task_process import local_volume_paths
from lakehouse_standins.databricks.tasks import LaunchError, TaskLauncher

UPDATE_STATES_ENDED = ("COMPLETED", "FAILED", "CANCELED")
_FLOW_LINE = re.compile(r"^(?P<ts>\S+ \S+): Flow (?P<flow>\S+) (?:is|has) (?P<state>[A-Z_]+)\.?$")
_SPEC_FIELDS = (
    "name", "catalog", "schema", "target", "libraries", "configuration", "continuous", "development",
    "serverless", "channel", "edition", "photon", "clusters", "tags", "root_path", "storage",
    "notifications", "budget_policy_id", "event_log", "environment", "filters", "id", "deployment",
    "restart_window", "trigger", "run_as", "gateway_definition", "ingestion_definition",
)  # fmt: skip
_EXPECTATIONS_CONF = re.compile(r"^lakehouse\.expectations\.(?P<layer>\w+)\.(?P<name>\w+)$")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


@dataclass
class Update:
    update_id: str
    pipeline_id: str
    cause: str
    full_refresh: bool
    refresh_selection: list[str]
    full_refresh_selection: list[str]
    state: str = "QUEUED"
    creation_time: int = field(default_factory=_now_ms)
    cancel: threading.Event = field(default_factory=threading.Event)

    def as_json(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "pipeline_id": self.pipeline_id,
            "state": self.state,
            "cause": self.cause,
            "creation_time": self.creation_time,
            "full_refresh": self.full_refresh,
            "refresh_selection": self.refresh_selection,
            "full_refresh_selection": self.full_refresh_selection,
        }


@dataclass
class PipelineRecord:
    pipeline_id: str
    spec: dict[str, Any]
    created: int = field(default_factory=_now_ms)
    last_modified: int = field(default_factory=_now_ms)
    updates: list[Update] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or "")

    @property
    def active(self) -> Update | None:
        return next((u for u in self.updates if u.state not in UPDATE_STATES_ENDED), None)

    @property
    def state(self) -> str:
        if self.active:
            return "RUNNING"
        return "FAILED" if self.updates and self.updates[-1].state == "FAILED" else "IDLE"

    def latest_updates(self) -> list[dict[str, Any]]:
        return [
            {"update_id": u.update_id, "state": u.state, "creation_time": _iso(u.creation_time)}
            for u in reversed(self.updates[-5:])
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "pipeline_id": self.pipeline_id,
            "name": self.name,
            "spec": {**self.spec, "id": self.pipeline_id},
            "state": self.state,
            "health": "UNHEALTHY" if self.state == "FAILED" else "HEALTHY",
            "latest_updates": self.latest_updates(),
            "creator_user_name": "lakehouse",
            "run_as_user_name": "lakehouse",
            "last_modified": self.last_modified,
        }

    def status(self) -> dict[str, Any]:
        return {
            "pipeline_id": self.pipeline_id,
            "name": self.name,
            "state": self.state,
            "latest_updates": self.latest_updates(),
            "creator_user_name": "lakehouse",
        }


def _like(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in pattern.split("%"))
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE)


def _name_filter(text: str | None) -> re.Pattern[str] | None:
    if not text:
        return None
    match = re.fullmatch(r"\s*name\s+LIKE\s+'(?P<p>(?:[^']|'')*)'\s*", text, re.IGNORECASE)
    if not match:
        raise _invalid(f"Unsupported filter {text!r}: use name LIKE '<pattern>'")
    return _like(match.group("p").replace("''", "'"))


class Pipelines:
    def __init__(self, launcher: TaskLauncher, spark: SparkServer, state_dir: Path) -> None:
        self.launcher = launcher
        self.spark = spark
        self.state_dir = state_dir
        self.pipelines: dict[str, PipelineRecord] = {}
        self._event_ids = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # ---- definitions -----------------------------------------------------------------------
    def _spec(self, body: dict[str, Any], exclude: str | None = None) -> dict[str, Any]:
        unknown = sorted(
            set(body)
            - set(_SPEC_FIELDS)
            - {"allow_duplicate_names", "dry_run", "pipeline_id", "expected_last_modified"}
        )
        if unknown:
            raise _invalid(f"Unknown pipeline settings: {', '.join(unknown)}")
        spec = {k: v for k, v in body.items() if k in _SPEC_FIELDS and k != "id"}
        if not spec.get("name"):
            raise _invalid("A pipeline needs a name")
        if not body.get("allow_duplicate_names"):
            taken = [
                p for p in self.pipelines.values() if p.name == spec["name"] and p.pipeline_id != exclude
            ]
            if taken:
                raise ApiError(
                    409,
                    "RESOURCE_CONFLICT",
                    f"Pipeline name '{spec['name']}' is already used by {taken[0].pipeline_id}",
                )
        return spec

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            spec = self._spec(body)
            pipeline_id = str(uuid.uuid4())
            if not body.get("dry_run"):
                self.pipelines[pipeline_id] = PipelineRecord(pipeline_id, spec)
        return {"pipeline_id": pipeline_id, "effective_settings": {**spec, "id": pipeline_id}}

    def get(self, pipeline_id: str) -> PipelineRecord:
        if pipeline_id not in self.pipelines:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"The pipeline {pipeline_id} does not exist.")
        return self.pipelines[pipeline_id]

    def edit(self, pipeline_id: str, body: dict[str, Any]) -> None:
        record = self.get(pipeline_id)
        with self._lock:
            record.spec = self._spec(body, exclude=pipeline_id)
            record.last_modified = _now_ms()

    def delete(self, pipeline_id: str) -> None:
        record = self.get(pipeline_id)
        if record.active:
            record.active.cancel.set()
        with self._lock:
            del self.pipelines[pipeline_id]

    def list(self, params: dict[str, str]) -> dict[str, Any]:
        pattern = _name_filter(params.get("filter"))
        limit = int(params.get("max_results") or 25)
        offset = int(params.get("page_token") or 0)
        found = [p for p in self.pipelines.values() if pattern is None or pattern.match(p.name)]
        found.sort(key=lambda p: p.name)
        body: dict[str, Any] = {"statuses": [p.status() for p in found[offset : offset + limit]]}
        if offset + limit < len(found):
            body["next_page_token"] = str(offset + limit)
        return body

    # ---- updates ---------------------------------------------------------------------------
    def start_update(self, pipeline_id: str, body: dict[str, Any]) -> Update:
        record = self.get(pipeline_id)
        with self._lock:
            if record.active:
                raise ApiError(
                    409,
                    "RESOURCE_CONFLICT",
                    f"An active update {record.active.update_id} already exists for pipeline {pipeline_id}.",
                )
            update = Update(
                update_id=str(uuid.uuid4()),
                pipeline_id=pipeline_id,
                cause=str(body.get("cause") or "API_CALL"),
                full_refresh=bool(body.get("full_refresh")),
                refresh_selection=list(body.get("refresh_selection") or []),
                full_refresh_selection=list(body.get("full_refresh_selection") or []),
            )
            record.updates.append(update)
        self._event(
            record, update, "create_update", f"Update {update.update_id[:6]} started by {update.cause}."
        )
        thread = threading.Thread(
            target=self._run, args=(record, update), name=f"pipeline-{update.update_id[:8]}", daemon=True
        )
        self._threads.append(thread)
        thread.start()
        return update

    def stop(self, pipeline_id: str) -> None:
        record = self.get(pipeline_id)
        if record.active:
            record.active.cancel.set()

    def update(self, pipeline_id: str, update_id: str) -> Update:
        record = self.get(pipeline_id)
        for update in record.updates:
            if update.update_id == update_id:
                return update
        raise ApiError(
            404, "RESOURCE_DOES_NOT_EXIST", f"Update {update_id} does not exist for pipeline {pipeline_id}."
        )

    def events(self, pipeline_id: str, params: dict[str, str]) -> dict[str, Any]:
        """`GET .../events`: a page token carries the first call's order and filter, and is refused
        beside any field but max_results, as the API documents."""
        record = self.get(pipeline_id)
        events = list(record.events)
        offset = 0
        if token := params.get("page_token"):
            extra = sorted(set(params) - {"page_token", "max_results"})
            if extra:
                raise _invalid(
                    f"page_token is mutually exclusive with all fields in this request except max_results: {', '.join(extra)}"
                )
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                offset, params = (
                    int(state["offset"]),
                    {**state["query"], "max_results": params.get("max_results", "")},
                )
            except (ValueError, KeyError, TypeError):
                raise _invalid(f"Invalid page_token: {token}") from None
        query = {k: params[k] for k in ("order_by", "filter") if params.get(k)}
        if (params.get("order_by") or "timestamp desc").lower().endswith("desc"):
            events.reverse()
        wanted = params.get("filter") or ""
        level = re.search(r"level\s*=\s*'(\w+)'", wanted)
        if level:
            events = [e for e in events if e["level"] == level.group(1)]
        kind = re.search(r"event_type\s*=\s*'(\w+)'", wanted)
        if kind:
            events = [e for e in events if e["event_type"] == kind.group(1)]
        limit = int(params.get("max_results") or 100)
        body: dict[str, Any] = {"events": events[offset : offset + limit]}
        if offset + limit < len(events):
            state = json.dumps({"offset": offset + limit, "query": query}).encode()
            body["next_page_token"] = base64.urlsafe_b64encode(state).decode()
        return body

    def _event(
        self,
        record: PipelineRecord,
        update: Update,
        event_type: str,
        message: str,
        *,
        level: str = "INFO",
        flow: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        origin: dict[str, Any] = {
            "pipeline_id": record.pipeline_id,
            "pipeline_name": record.name,
            "update_id": update.update_id,
        }
        if flow:
            origin.update(flow_name=flow, dataset_name=flow)
        with self._lock:
            record.events.append(
                {
                    "id": str(next(self._event_ids)),
                    "event_type": event_type,
                    "level": level,
                    "maturity_level": "STABLE",
                    "message": message,
                    "timestamp": _iso(_now_ms()),
                    "origin": origin,
                    "details": details or {},
                }
            )

    def _set_state(self, record: PipelineRecord, update: Update, state: str) -> None:
        update.state = state
        self._event(
            record, update, "update_progress", f"Update {update.update_id[:6]} is {state}.",
            details={"update_progress": {"state": state}},
        )  # fmt: skip

    def _run(self, record: PipelineRecord, update: Update) -> None:
        try:
            self._run_update(record, update)
        except Exception as exc:
            # A stand-in bug must end the update visibly, not leave it RUNNING for ever.
            self._event(record, update, "update_progress", f"Stand-in internal error: {exc!r}", level="ERROR")
            self._set_state(record, update, "FAILED")

    def _run_update(self, record: PipelineRecord, update: Update) -> None:
        spec = dict(record.spec)
        folder = self.state_dir / record.pipeline_id / update.update_id
        self._set_state(record, update, "INITIALIZING")
        try:
            remote = self.spark.remote()
            spec_file, root = self._write_spark_spec(record, spec, folder)
        except (LaunchError, SparkUnavailable, ValueError) as exc:
            self._event(record, update, "update_progress", str(exc), level="ERROR")
            self._set_state(record, update, "FAILED")
            return
        self._set_state(record, update, "SETTING_UP_TABLES")
        # One bookkeeping session for the update, before and after the run: a session's start is a
        # round trip and a fresh Python-side client each time.
        with _connect(remote) as spark:
            if self._set_up_and_run(record, update, spark, spec, spec_file, root, remote, folder):
                self._set_state(record, update, "COMPLETED")

    def _set_up_and_run(
        self,
        record: PipelineRecord,
        update: Update,
        spark: Any,
        spec: dict[str, Any],
        spec_file: Path,
        root: Path | None,
        remote: str,
        folder: Path,
    ) -> bool:
        """Count, run, report each flow; False when the update ended otherwise (its state is set)."""
        catalog, schema = spec.get("catalog"), spec.get("schema") or spec.get("target")
        if catalog and schema:
            # Databricks needs the schema to exist too; locally it is the stand-in's to make.
            spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{catalog}`.`{schema}`")
        before = row_counts(spark, self._known_flows(record))
        self._set_state(record, update, "RUNNING")
        code, flows = self._spark_pipelines_run(record, update, spec_file, root, remote, folder)
        if update.cancel.is_set():
            self._set_state(record, update, "CANCELED")
            return False
        if code != 0:
            tail = (folder / "run.log").read_text(errors="replace").strip().splitlines()[-12:]
            self._event(
                record,
                update,
                "update_progress",
                "\n".join(tail) or f"spark-pipelines exited {code}",
                level="ERROR",
            )
            self._set_state(record, update, "FAILED")
            return False
        after = row_counts(spark, list(flows))
        rules = _rules(spec.get("configuration") or {})
        counted = _counted_by_pipeline((folder / "run.log").read_text(errors="replace"))
        for flow, planned in flows.items():
            written = after.get(flow, 0) - (0 if planned else before.get(flow, 0))
            details: dict[str, Any] = {
                "status": "COMPLETED",
                "metrics": {"num_output_rows": max(written, 0)},
            }
            quality = counted.get(flow) or _data_quality(spark, flow, rules.get(flow, []))
            if quality:
                details["data_quality"] = quality
            self._event(
                record,
                update,
                "flow_progress",
                f"Flow '{flow}' has COMPLETED.",
                flow=flow,
                details={"flow_progress": details},
            )
        return True

    def _write_spark_spec(
        self, record: PipelineRecord, spec: dict[str, Any], folder: Path
    ) -> tuple[Path, Path | None]:
        libs = folder / "libraries"
        libs.mkdir(parents=True, exist_ok=True)
        includes = []
        for index, library in enumerate(spec.get("libraries") or []):
            for source in self._library_files(library):
                link = libs / f"{index:02d}_{len(includes):03d}_{source.name}"
                link.symlink_to(source)
                includes.append({"glob": {"include": str(link.relative_to(folder))}})
        if not includes:
            raise ValueError(f"Pipeline {record.name} has no source files in its libraries")
        root = self._resolve_dir(spec["root_path"]) if spec.get("root_path") else None
        configuration = local_volume_paths(dict(spec.get("configuration") or {}), self.launcher.volumes_root)
        storage = spec.get("storage") or (self.state_dir / record.pipeline_id / "storage").absolute().as_uri()
        spark_spec = {
            "name": record.name,
            "storage": storage,
            "catalog": spec.get("catalog"),
            "database": spec.get("schema") or spec.get("target"),
            "configuration": {str(k): str(v) for k, v in configuration.items()},
            "libraries": includes,
        }
        spec_file = folder / "spark-pipeline.yml"
        spec_file.write_text(
            yaml.safe_dump({k: v for k, v in spark_spec.items() if v is not None}), encoding="utf-8"
        )
        return spec_file, root

    def _library_files(self, library: dict[str, Any]) -> Iterator[Path]:
        if "file" in library or "notebook" in library:
            entry = library.get("file") or library.get("notebook") or {}
            yield self.launcher.resolve(str(entry.get("path")))
        elif "glob" in library:
            include = str(library["glob"]["include"])
            folder = self._resolve_dir(include.removesuffix("/**").removesuffix("/*"))
            yield from sorted(
                p for p in folder.rglob("*") if p.suffix in (".py", ".sql") and "__pycache__" not in p.parts
            )
        else:
            raise LaunchError(
                f"Unsupported pipeline library {sorted(library)}: the stand-in runs file, notebook and glob"
            )

    def _resolve_dir(self, workspace_path: str) -> Path:
        return self.launcher.resolve_dir(workspace_path)

    def _spark_pipelines_run(
        self,
        record: PipelineRecord,
        update: Update,
        spec_file: Path,
        root: Path | None,
        remote: str,
        folder: Path,
    ) -> tuple[int, dict[str, bool]]:
        # `spark-pipelines`' own Python CLI, as the script runs it, without the script's JVM launcher
        # (`spark-class ... SparkPipelines`): against a Connect server that JVM only starts the Python
        # process, for ~4.5 CPU seconds per update on a 2-core machine (bench/inner_loop.py).
        command = [sys.executable, "-m", "pyspark.pipelines.cli", "run", "--spec", str(spec_file)]
        if update.full_refresh:
            command.append("--full-refresh-all")
        if update.refresh_selection:
            command += ["--refresh", ",".join(update.refresh_selection)]
        if update.full_refresh_selection:
            command += ["--full-refresh", ",".join(update.full_refresh_selection)]
        env = {k: v for k, v in os.environ.items() if k != "SPARK_CONNECT_MODE_ENABLED"}
        env.update(SPARK_REMOTE=remote, PYTHONUNBUFFERED="1")
        if root is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        flows: dict[str, bool] = {}  # flow -> planned (a materialized view, recomputed whole)
        log_path = folder / "run.log"
        with open(log_path, "wb") as log:
            process = start_child(command, env=env, cwd=folder, stdout=log, stderr=log)
            seen = 0
            while True:
                ended = process.poll() is not None
                if update.cancel.is_set():
                    stop_group(process)
                    return -1, flows
                text = log_path.read_text(errors="replace")
                for line in text[seen:].splitlines(keepends=True):
                    if not line.endswith("\n") and not ended:
                        break
                    seen += len(line)
                    match = _FLOW_LINE.match(line.strip())
                    if match:
                        flow, state = match.group("flow"), match.group("state")
                        flows.setdefault(flow, False)
                        flows[flow] |= state == "PLANNING"
                        level = "ERROR" if state == "FAILED" else "INFO"
                        self._event(
                            record, update, "flow_progress", f"Flow '{flow}' is {state}.", level=level, flow=flow,
                            details={"flow_progress": {"status": state}},
                        )  # fmt: skip
                if ended:
                    return process.returncode or 0, flows
                time.sleep(0.2)

    def _known_flows(self, record: PipelineRecord) -> list[str]:
        return sorted({e["origin"]["flow_name"] for e in record.events if e["origin"].get("flow_name")})

    def cancel_all(self, timeout: float = 15.0) -> None:
        for record in self.pipelines.values():
            if record.active:
                record.active.cancel.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _connect:
    """A Spark Connect session for the stand-in's own bookkeeping (schemas, row counts)."""

    def __init__(self, remote: str) -> None:
        self.remote = remote

    def __enter__(self) -> Any:
        self.session = private_session(self.remote)
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.stop()


def _rules(configuration: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Expectations by the full table name of their dataset (see the module docstring)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for key, value in configuration.items():
        match = _EXPECTATIONS_CONF.match(key)
        table = configuration.get(f"lakehouse.table.{match['layer']}.{match['name']}") if match else None
        if match and table:
            found[str(table)] = list(json.loads(value))
    return found


def _counted_by_pipeline(log: str) -> dict[str, dict[str, Any]]:
    """`data_quality` per dataset from the pipeline's own `DATA_OPS_EXPECTATIONS` lines."""
    from data_ops.log import parse_events
    from data_ops.quality import EXPECTATIONS_EVENT, QualityReport

    reports = [QualityReport.model_validate(event) for event in parse_events(log, EXPECTATIONS_EVENT)]
    return {report.dataset: report.data_quality() for report in reports}


def _data_quality(spark: Any, table: str, rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not rules or not spark.catalog.tableExists(table):
        return None
    name = table.rsplit(".", 1)[-1]
    columns = [
        f"count_if(coalesce(({rule['condition']}), false)) AS `{index}`" for index, rule in enumerate(rules)
    ]
    row = spark.sql(f"SELECT count(1) AS total, {', '.join(columns)} FROM {table}").collect()[0]
    expectations = [
        {
            "name": rule["name"],
            "dataset": name,
            "passed_records": int(row[str(index)]),
            "failed_records": int(row["total"]) - int(row[str(index)]),
        }
        for index, rule in enumerate(rules)
    ]
    return {"dropped_records": 0, "expectations": expectations}


def routes(api: Pipelines) -> list[Route]:
    async def create_or_list(request: Request) -> Response:
        if request.method == "POST":
            return JSONResponse(api.create(await request.json()))
        return JSONResponse(api.list(dict(request.query_params)))

    async def one(request: Request) -> Response:
        pipeline_id = request.path_params["pipeline_id"]
        if request.method == "PUT":
            api.edit(pipeline_id, await request.json())
            return JSONResponse({})
        if request.method == "DELETE":
            api.delete(pipeline_id)
            return JSONResponse({})
        return JSONResponse(api.get(pipeline_id).as_json())

    async def stop(request: Request) -> Response:
        api.stop(request.path_params["pipeline_id"])
        return JSONResponse({})

    async def updates(request: Request) -> Response:
        pipeline_id = request.path_params["pipeline_id"]
        if request.method == "POST":
            body = await request.json() if await request.body() else {}
            return JSONResponse({"update_id": api.start_update(pipeline_id, body).update_id})
        record = api.get(pipeline_id)
        return JSONResponse({"updates": [u.as_json() for u in reversed(record.updates)]})

    async def one_update(request: Request) -> Response:
        update = api.update(request.path_params["pipeline_id"], request.path_params["update_id"])
        return JSONResponse({"update": update.as_json()})

    async def events(request: Request) -> Response:
        return JSONResponse(api.events(request.path_params["pipeline_id"], dict(request.query_params)))

    base = "/api/2.0/pipelines"
    return [
        Route(base, answers_api_errors(create_or_list), methods=["GET", "POST"]),
        Route(f"{base}/{{pipeline_id}}", answers_api_errors(one), methods=["GET", "PUT", "DELETE"]),
        Route(f"{base}/{{pipeline_id}}/stop", answers_api_errors(stop), methods=["POST"]),
        Route(f"{base}/{{pipeline_id}}/updates", answers_api_errors(updates), methods=["GET", "POST"]),
        Route(
            f"{base}/{{pipeline_id}}/updates/{{update_id}}", answers_api_errors(one_update), methods=["GET"]
        ),
        Route(f"{base}/{{pipeline_id}}/events", answers_api_errors(events), methods=["GET"]),
    ]
