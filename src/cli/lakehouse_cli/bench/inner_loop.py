"""The Databricks inner loop (issue 23): edit one domain's silver code, redeploy, rematerialize it.

The setting is a developer's after `task dev`: this checkout's stand-ins run on a warm Spark (hosted
in this process and registered where `lakehouse pipeline` looks for them, as `lakehouse standins`
registers its server, so the command joins them), the bundle is deployed (here by the warm-up
round's first command; without warm-up the first round deploys it whole), the member domain's bronze
is materialized, and the developer has just changed the member silver pipeline's source (a comment
with a counter). The checkout is a copy: the repository's files and state are never touched (its
`databricks/` folder is copied, everything else linked, `.lakehouse/` is the copy's own).

- `lakehouse_cli`: `lakehouse pipeline --select <the member silver tables>` in a fresh process, timed
  from its start to its exit: imports, Definitions, the bundle's redeploy to the stand-in (the real
  Databricks CLI when present), the pipeline update there, its checks.
- `direct_update`: the same pipeline update with open-source `spark-pipelines run` and the bundle's
  local configuration (`medallion_direct`) on the same Spark Connect server, no Dagster, no stand-in.

After every case the silver tables' row counts must equal the first case's, or the benchmark fails.
`cli_phases` splits the command's time by the lines it prints and the stand-in's update events.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lakehouse_cli.bench.timing import interleaved, median, summarize, timed

DOMAIN, SOURCE, LAYER = "member", "enrollment", "silver"
SELECTION = f'key:"{DOMAIN}/{SOURCE}/{LAYER}/*"'
# The file the developer edits: one of the member silver pipeline's libraries.
EDITED = Path("src") / DOMAIN / SOURCE / LAYER / "demographics.py"
# Not linked into the copy: the repository's history and local state, and the bundle (copied).
_NOT_LINKED = {".git", ".lakehouse", ".env", "databricks"}
# What the copy's `.lakehouse/` borrows from the checkout's: Delta's jars and the built Databricks CLI.
_SHARED_STATE = ("spark-packages", "bin")
# What `lakehouse pipeline` prints, in order: the phases of `cli_phases` end at these lines. With
# stand-ins running it joins them first, then redeploys while the Definitions load.
_MARKS = (
    ("start_and_settings", "event log:"),
    ("join_standins", "stand-ins joined"),
    ("definitions_and_redeploy", "bundle deploy"),
)


def copy_checkout(repo: Path, dest: Path) -> Path:
    """A checkout at `dest` whose `databricks/` is a copy of `repo`'s, the rest links to it; its
    `.lakehouse/` holds only links to the checkout's Delta jars and Databricks CLI."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for entry in sorted(repo.iterdir()):
        if entry.name not in _NOT_LINKED and not entry.name.endswith("_cache"):
            (dest / entry.name).symlink_to(entry)
    ignored = shutil.ignore_patterns("dist", ".databricks", "__pycache__")
    shutil.copytree(repo / "databricks", dest / "databricks", ignore=ignored)
    state = dest / ".lakehouse"
    state.mkdir()
    for name in _SHARED_STATE:  # linked even before they exist: this process's Spark fetches the jars
        (state / name).symlink_to(repo / ".lakehouse" / name)
    return dest


class SourceEdit:
    """A harmless change to one source file, new on every `next()` (a comment with a counter);
    `restore()` puts the original text back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.original = path.read_text()
        self.count = 0

    @property
    def marker(self) -> str:
        return f"# inner loop edit {self.count}"

    def next(self) -> str:
        self.count += 1
        self.path.write_text(f"{self.original.rstrip()}\n{self.marker}\n")
        return self.marker

    def restore(self) -> None:
        self.path.write_text(self.original)


@contextmanager
def edited(path: Path) -> Iterator[SourceEdit]:
    edit = SourceEdit(path)
    try:
        yield edit
    finally:
        edit.restore()


@dataclass
class CliRound:
    """One `lakehouse pipeline` run: seconds since its start at each printed line, and the output."""

    seconds: float
    lines: list[tuple[float, str]]
    started_wall: float

    def at(self, prefix: str) -> float | None:
        return next((t for t, line in self.lines if line.startswith(prefix)), None)


def run_cli(command: list[str], env: dict[str, str], cwd: Path) -> CliRound:
    """Run `command`, stamping each line of its output with the seconds since it started."""
    lines: list[tuple[float, str]] = []
    started_wall = time.time()
    start = time.perf_counter()
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append((time.perf_counter() - start, line.rstrip("\n")))
            code = process.wait()
        except BaseException:
            process.kill()
            raise
    seconds = time.perf_counter() - start
    if code != 0:
        output = "\n".join(line for _, line in lines)
        raise RuntimeError(f"{' '.join(command)} exited {code}:\n{output[-4000:]}")
    return CliRound(seconds, lines, started_wall)


def cli_phases(cli: CliRound, update: list[tuple[float, str]], run_log_end: float | None) -> dict[str, float]:
    """Where the command's seconds went: to each line it prints (`_MARKS`), then the stand-in's
    update (`update`: wall time and message of its events), then the step's end and the exit."""
    points: list[tuple[str, float]] = []
    for name, prefix in _MARKS:
        if (at := cli.at(prefix)) is not None:
            points.append((name, at))

    def since_start(wall: float) -> float:
        return wall - cli.started_wall

    def first(suffix: str) -> float | None:  # the update's own progress events, not its flows'
        return next((w for w, m in update if m.startswith("Update ") and m.endswith(suffix)), None)

    created = update[0][0] if update else None  # its first event: `create_update`
    running, completed = first(" is RUNNING."), first(" is COMPLETED.")
    if created is not None:
        points.append(("run_start_to_update_submitted", since_start(created)))
    if running is not None:
        points.append(("update_setup", since_start(running)))
    if run_log_end is not None:
        points.append(("update_spark_pipelines_run", since_start(run_log_end)))
    if completed is not None:
        points.append(("update_bookkeeping", since_start(completed)))
    if (done := next((t for t, line in cli.lines if " done " in line), None)) is not None:
        points.append(("step_after_update", done))
    points.append(("summary_and_exit", cli.seconds))
    phases, previous = {}, 0.0
    for name, at in points:
        phases[name] = max(at - previous, 0.0)
        previous = max(previous, at)
    return phases


def _update_timeline(standin: Any, pipeline_name: str) -> tuple[list[tuple[float, str]], float | None]:
    """The last update of the pipeline named `pipeline_name` on the stand-in: (wall time, message)
    of its events and when its `spark-pipelines` log was last written (the process's end)."""
    api = standin.pipelines
    records = [r for r in api.pipelines.values() if r.name == pipeline_name and r.updates]
    if not records:
        return [], None
    record = records[0]
    update_id = record.updates[-1].update_id
    events = [
        (datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp(), e["message"])
        for e in record.events
        if e["origin"].get("update_id") == update_id
    ]
    run_log = api.state_dir / record.pipeline_id / update_id / "run.log"
    return events, run_log.stat().st_mtime if run_log.exists() else None


def silver_tables(bundle: Path) -> list[str]:
    from lakehouse_cli.bench.medallion_direct import local_table, spec_datasets

    return [
        local_table(domain, source, dataset["layer"], dataset["name"])
        for kind, domain, source, dataset in spec_datasets(bundle)
        if kind == "pipelines" and domain == DOMAIN and dataset["layer"] == LAYER
    ]


def direct_update(bundle: Path, volumes_root: Path, remote: str, folder: Path, layer: str) -> None:
    """One member pipeline's update with `spark-pipelines run`, on the spec the medallion benchmark's
    direct path writes for that layer."""
    from lakehouse_cli.bench import medallion_direct as direct

    spec = direct.write_pipeline_spec(bundle, volumes_root, folder, DOMAIN, layer)
    direct.run_pipeline_spec(spec, {**os.environ, "SPARK_REMOTE": remote})


def _register(settings: Any, databricks_port: int, dbt_cloud_port: int) -> Callable[[], None]:
    """Record this process as the checkout's stand-in server (what `lakehouse standins` writes) and
    as one of its users, so `lakehouse pipeline` joins these stand-ins and never stops them."""
    from lakehouse_resources.settings import STANDIN_SERVER_FILE
    from lakehouse_standins.shared import StandinServer, record_server, registry_dir

    folder = registry_dir(settings)
    (folder / "users").mkdir(parents=True, exist_ok=True)
    me = folder / "users" / str(os.getpid())
    me.touch()
    record = StandinServer(
        pid=os.getpid(),
        root=str(settings.root),
        warehouse=str(settings.duckdb_path),
        databricks_port=databricks_port,
        dbt_cloud_port=dbt_cloud_port,
    )
    record_server(folder, record)

    def unregister() -> None:
        (folder / STANDIN_SERVER_FILE).unlink(missing_ok=True)
        me.unlink(missing_ok=True)

    return unregister


def _child_env(root: Path) -> dict[str, str]:
    """A developer's shell in the copy: no Lakehouse, Databricks or dbt Cloud variables but its root."""
    prefixes = ("LAKEHOUSE_", "DATABRICKS_", "DBT_CLOUD_", "DAGSTER_HOME", "SPARK_REMOTE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached after the first round, as on a laptop
    return {**env, "LAKEHOUSE_ROOT": str(root)}


def _lakehouse_command() -> list[str]:
    script = Path(sys.executable).with_name("lakehouse")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lakehouse_cli.main"]


def run(
    work: Path, repeat: int, warmup: bool = True, spark_remote: str | None = None, rows: int | None = None
) -> dict[str, Any]:
    """Both cases, interleaved; `rows` lands a generated feed of that many source rows instead of the
    committed sample feeds `task dev` lands. With `spark_remote` the stand-in runs on that server
    (the test session's) instead of a Spark of its own."""
    from lakehouse_resources.databricks import databricks_client_from_settings
    from lakehouse_resources.settings import get_settings
    from lakehouse_standins.databricks.spark_runtime import private_session
    from lakehouse_standins.databricks.workspace import USER_NAME
    from lakehouse_standins.dbt_cloud import DbtCloudStandin
    from lakehouse_standins.local import databricks_standin, dbt_cloud_config
    from lakehouse_standins.shared import free_port

    from lakehouse_cli.bench.medallion_feeds import generate
    from lakehouse_cli.bundle import load_bundle, upload_sample_feeds
    from lakehouse_cli.dbt_cloud import prepare_state

    repo = get_settings().root
    root = copy_checkout(repo, work / "inner_loop" / "checkout")
    bundle = root / "databricks"
    settings = get_settings(
        root=root,
        duckdb_path_override=root / ".lakehouse" / "warehouse.duckdb",
        databricks_standin_port=free_port(),
        dbt_cloud_standin_port=free_port(),
    )
    tables = silver_tables(bundle)
    setup: dict[str, float] = {}
    times: dict[str, list[float]] = {}
    rounds: list[dict[str, float]] = []
    counts: dict[str, int] = {}
    deploys: list[str] = []
    with ExitStack() as stack:
        started = time.perf_counter()
        standin = stack.enter_context(
            databricks_standin(settings, settings.databricks_standin_port, spark_remote)
        )
        stack.enter_context(DbtCloudStandin(dbt_cloud_config(settings), port=settings.dbt_cloud_standin_port))
        stack.callback(_register(settings, settings.databricks_standin_port, settings.dbt_cloud_standin_port))
        remote = standin.spark.remote()
        setup["standins_and_spark"] = time.perf_counter() - started
        if rows is not None:  # the deploys land the sample feeds only where no feed is
            generate(standin.volumes_root, rows=rows)
        else:
            client = databricks_client_from_settings(settings).workspace_client()
            upload_sample_feeds(client, bundle, load_bundle(bundle).target("local"))
        # `task dev` deploys too; here the first `lakehouse pipeline` does (the warm-up round's).
        setup["dbt_cloud_state"] = timed(lambda: prepare_state(settings))
        spark = private_session(remote)  # never the process's default session (a test's)
        stack.callback(spark.stop)
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS spark_catalog.{DOMAIN}_{SOURCE}")
        setup["bronze"] = timed(
            lambda: direct_update(
                bundle, standin.volumes_root, remote, work / "inner_loop" / "bronze", "bronze"
            )
        )
        edit = stack.enter_context(edited(bundle / EDITED))
        deployed_file = f"/Workspace/Users/{USER_NAME}/.bundle/lakehouse/local/files/{EDITED.as_posix()}"
        pipeline_name = f"{DOMAIN}_{SOURCE}_{LAYER}_"  # the deployed name's prefix (see _pipeline_name)
        env, command = _child_env(root), [*_lakehouse_command(), "pipeline", "--select", SELECTION]

        def check_rows(case: str) -> None:
            found = {table: int(spark.table(table).count()) for table in tables}
            if not counts:
                counts.update(found)
            elif found != counts:
                raise RuntimeError(f"inner loop: {case} left the silver tables at {found}, not {counts}")

        def through_cli() -> float:
            marker = edit.next()
            cli = run_cli(command, env, root)
            if marker.encode() not in standin.workspace.read(deployed_file):
                raise RuntimeError(f"inner loop: the redeploy did not upload {EDITED} with `{marker}`")
            name = _pipeline_name(standin, pipeline_name)
            rounds.append(cli_phases(cli, *_update_timeline(standin, name)))
            deploys.extend(line for _, line in cli.lines if line.startswith("bundle deploy"))
            (work / "inner_loop" / f"cli-{edit.count}.log").write_text(
                "\n".join(f"{t:8.3f} {line}" for t, line in cli.lines)
            )
            check_rows("lakehouse_cli")
            return cli.seconds

        def directly() -> float:
            edit.next()
            folder = work / "inner_loop" / "direct"
            seconds = timed(lambda: direct_update(bundle, standin.volumes_root, remote, folder, LAYER))
            check_rows("direct_update")
            return seconds

        times = interleaved({"lakehouse_cli": through_cli, "direct_update": directly}, repeat, warmup)
    timed_rounds = rounds[1:] if warmup else rounds
    phases = {name: median([r.get(name, 0.0) for r in timed_rounds]) for name in timed_rounds[0]}
    return summarize(
        times,
        "direct_update",
        selection=SELECTION,
        feed="sample" if rows is None else rows,
        silver_rows=counts,
        setup_seconds=setup,
        cli_phases=phases,
        deploy=deploys[-1] if deploys else None,
    )


def _pipeline_name(standin: Any, prefix: str) -> str:
    names = [r.name for r in standin.pipelines.pipelines.values() if r.name.startswith(prefix)]
    if len(names) != 1:
        raise RuntimeError(f"inner loop: expected one deployed pipeline named {prefix}*, found {names}")
    return names[0]
