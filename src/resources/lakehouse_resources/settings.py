"""The one place that resolves the environment and everything that depends on it.

Settings are read when Definitions are built or a run starts (`get_settings()`), never at import.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, urlsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    HttpUrl,
    SecretStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from lakehouse_resources.paths import repo_root

if TYPE_CHECKING:
    from lakehouse_resources.platform.targets import BundleTarget


class Environment(StrEnum):
    LOCAL = "local"
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class DatabricksCompute(StrEnum):
    SERVERLESS = "serverless"
    EXISTING_CLUSTER = "existing_cluster"
    JOB_CLUSTER = "job_cluster"


# The local stand-ins' fixed identities: the Databricks stand-in's one cluster and the dbt Cloud
# stand-in's account, project and environment (every id 1).
LOCAL_STANDIN_CLUSTER_ID = "standin-cluster"
LOCAL_DBT_CLOUD_ID = 1
DBT_CLOUD_DEFAULT_ACCESS_URL = "https://cloud.getdbt.com"
# The team's scheduled kaizen_wars job in dbt Cloud (the stand-in creates one under this name).
DBT_CLOUD_JOB_NAME = "kaizen_wars build"
STANDIN_TOKEN_FILE = "standin-token"
DEFAULT_WAREHOUSE_FILE = "warehouse.duckdb"
# The stand-ins' registry under the state folder (`lakehouse_standins.shared`): `server.json` names
# the one server process of the checkout, the checkout and warehouse it serves and its ports.
STANDIN_REGISTRY_DIR = "standins"
STANDIN_SERVER_FILE = "server.json"
# Settings field -> `server.json` key of each stand-in port.
_STANDIN_PORTS = {"databricks_standin_port": "databricks_port", "dbt_cloud_standin_port": "dbt_cloud_port"}

# A TCP port a server can listen on.
Port = Annotated[int, Field(ge=1, le=65535)]


def _with_scheme(value: object) -> object:
    # The SDK and the Databricks CLI accept a bare workspace host and assume https.
    if isinstance(value, str) and value and "://" not in value:
        return f"https://{value}"
    return value


def _http_url(value: str) -> str:
    """Validate as pydantic's HttpUrl, keep the text as given (without a trailing slash)."""
    try:
        TypeAdapter(HttpUrl).validate_python(value)
    except ValidationError as exc:
        # The value is not echoed: a webhook URL can carry a secret.
        reason = exc.errors()[0]["msg"].removeprefix("Input should be a valid URL, ")
        raise ValueError(f"expected an http(s) URL like https://host[:port] ({reason})") from None
    return value.rstrip("/")


# An http(s) URL kept as text: clients take strings, and `https://x.com` must not become `https://x.com/`.
Url = Annotated[str, AfterValidator(_http_url)]
HostUrl = Annotated[str, BeforeValidator(_with_scheme), AfterValidator(_http_url)]


@dataclass(frozen=True)
class DbtCloudTarget:
    """Where the dbt Cloud client points: the stand-in in local, the account named by the variables elsewhere."""

    account_id: int
    project_id: int
    environment_id: int
    access_url: str
    token: str


class JaffleShopSource(StrEnum):
    FILES = "files"
    SQLSERVER = "sqlserver"


# Source databases as Sling reads them: field, variable, accepted schemes, example.
_DATABASE_URLS = (
    (
        "postgres_url",
        "LAKEHOUSE_POSTGRES_URL",
        ("postgres", "postgresql"),
        "postgresql://user:password@host:5432/db",
    ),
    (
        "sqlserver_url",
        "LAKEHOUSE_SQLSERVER_URL",
        ("sqlserver",),
        "sqlserver://user:password@host:1433?database=db",
    ),
)


def _is_database_url(value: str, schemes: tuple[str, ...]) -> bool:
    try:
        url = urlsplit(value)
        port_ok = url.port is None or url.port > 0
    except ValueError:
        return False
    # PostgreSQL names the database in the path, SQL Server in the `database` parameter.
    database = (
        url.path.strip("/") if url.scheme.startswith("postgres") else parse_qs(url.query).get("database")
    )
    return bool(port_ok and url.scheme in schemes and url.hostname and url.username and database)


def pid_alive(pid: int) -> bool:
    """A process with this pid runs (a zombie does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def read_standin_server(folder: Path) -> dict[str, Any] | None:
    """The record of the stand-in server registered in `folder` while its process lives, else None."""
    try:
        record = json.loads((folder / STANDIN_SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(pid := record.get("pid"), int) or not pid_alive(pid):
        return None
    return record


class SettingsError(ValueError):
    """Raised with one message that names every bad or missing variable."""


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class LakehouseSettings(BaseSettings):
    # An empty variable means "not configured" (importing dagster_databricks sets DATABRICKS_TOKEN="").
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    env: Environment = Field(Environment.LOCAL, validation_alias=_env("LAKEHOUSE_ENV"))
    root: Path = Field(default_factory=repo_root, validation_alias=_env("LAKEHOUSE_ROOT"))
    duckdb_path_override: Path | None = Field(None, validation_alias=_env("LAKEHOUSE_DUCKDB_PATH"))
    catalog_override: str | None = Field(None, validation_alias=_env("LAKEHOUSE_CATALOG"))
    data_dir_override: Path | None = Field(None, validation_alias=_env("LAKEHOUSE_DATA_DIR"))

    # Databricks: the workspace for notebooks, dbt-databricks, Sling and dlt in dev/staging/prod.
    databricks_host: HostUrl | None = Field(None, validation_alias=_env("DATABRICKS_HOST"))
    databricks_token: SecretStr | None = Field(None, validation_alias=_env("DATABRICKS_TOKEN"))
    databricks_profile: str | None = Field(None, validation_alias=_env("DATABRICKS_CONFIG_PROFILE"))
    databricks_http_path: str | None = Field(None, validation_alias=_env("DATABRICKS_HTTP_PATH"))
    databricks_cluster_id: str | None = Field(None, validation_alias=_env("DATABRICKS_CLUSTER_ID"))
    databricks_compute: DatabricksCompute = Field(
        DatabricksCompute.SERVERLESS, validation_alias=_env("LAKEHOUSE_DATABRICKS_COMPUTE")
    )
    databricks_volume_override: str | None = Field(None, validation_alias=_env("LAKEHOUSE_DATABRICKS_VOLUME"))
    databricks_notebook_root_override: str | None = Field(
        None, validation_alias=_env("LAKEHOUSE_DATABRICKS_NOTEBOOK_ROOT")
    )

    # dbt Cloud: in local these point at the stand-in.
    dbt_cloud_account_id: int | None = Field(None, validation_alias=_env("DBT_CLOUD_ACCOUNT_ID"))
    dbt_cloud_access_url: Url | None = Field(None, validation_alias=_env("DBT_CLOUD_ACCESS_URL"))
    dbt_cloud_token: SecretStr | None = Field(None, validation_alias=_env("DBT_CLOUD_TOKEN"))
    dbt_cloud_project_id: int | None = Field(None, validation_alias=_env("DBT_CLOUD_PROJECT_ID"))
    dbt_cloud_environment_id: int | None = Field(None, validation_alias=_env("DBT_CLOUD_ENVIRONMENT_ID"))

    # Local stand-ins (127.0.0.1 only). A port no variable sets is the one this checkout's running
    # stand-ins serve on (`_ports_of_running_standins`), else these defaults.
    databricks_standin_port: Port = Field(8765, validation_alias=_env("LAKEHOUSE_DATABRICKS_STANDIN_PORT"))
    dbt_cloud_standin_port: Port = Field(8766, validation_alias=_env("LAKEHOUSE_DBT_CLOUD_STANDIN_PORT"))
    # Run folders (dbt's target/ and logs) the dbt Cloud stand-in keeps under .lakehouse/; older ones go.
    dbt_cloud_standin_keep_runs: int = Field(
        20, ge=1, validation_alias=_env("LAKEHOUSE_DBT_CLOUD_STANDIN_KEEP_RUNS")
    )
    # Start the stand-in's Spark JVM with the stand-in (its 7-10 s overlap ingestion in `task
    # pipeline`) or on the first Spark task (`task dev`: the code servers load without it).
    standin_spark_at_start: bool = Field(True, validation_alias=_env("LAKEHOUSE_STANDIN_SPARK_AT_START"))
    # `task pipeline` runs the parts of the asset graph that share no asset as runs of their own, this
    # many at once: one waits on Spark while another runs dbt (1: one run, one step at a time).
    pipeline_concurrent_runs: int = Field(
        2, ge=1, le=8, validation_alias=_env("LAKEHOUSE_PIPELINE_CONCURRENT_RUNS")
    )

    # Run-failure notifications: a log line unless a webhook is configured.
    alert_webhook_url: Url | None = Field(None, validation_alias=_env("LAKEHOUSE_ALERT_WEBHOOK_URL"))
    # Where the Dagster UI is served: links in alerts point there.
    dagster_port: Port = Field(3000, validation_alias=_env("DAGSTER_PORT"))
    ui_url_override: Url | None = Field(None, validation_alias=_env("LAKEHOUSE_UI_URL"))

    # Source databases read by Sling. The URLs carry passwords, hence secrets.
    postgres_url: SecretStr | None = Field(None, validation_alias=_env("LAKEHOUSE_POSTGRES_URL"))
    sqlserver_url: SecretStr | None = Field(None, validation_alias=_env("LAKEHOUSE_SQLSERVER_URL"))
    dbt_schema_override: str | None = Field(None, validation_alias=_env("LAKEHOUSE_DBT_SCHEMA"))
    # A file load that would remove more than this share of a table's rows (or all of them) is
    # refused and the table kept; a run config (`allow_shrink`) loads such a file on purpose.
    load_max_shrink: float = Field(0.5, ge=0, le=1, validation_alias=_env("LAKEHOUSE_LOAD_MAX_SHRINK"))

    @model_validator(mode="after")
    def _production_needs_a_workspace(self) -> LakehouseSettings:
        # Malformed and missing values in one message, so a deployment is fixed in one go.
        problems = self._malformed_urls()
        missing = [] if self.is_local else self._missing_workspace()
        if missing:
            # Name the ingestion location's needs too, so the message lists everything to set.
            missing += [name for name in self._missing_for_ingestion() if name not in missing]
            problems.append(
                f"LAKEHOUSE_ENV={self.env.value} needs " + ", ".join(missing) + " (see .env.example)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _ports_of_running_standins(self) -> LakehouseSettings:
        """Take the ports this checkout's running stand-ins recorded for those no variable sets.

        The stand-ins move to a free port when 8765 or 8766 is taken, and `task standins` may have
        started them: the code servers of `dg dev` (which, unlike `task dev`, passes no ports) find
        them here. Only a live server of this checkout and warehouse counts; nothing is asked of the
        network, one small local file is read.
        """
        unset = [field for field in _STANDIN_PORTS if field not in self.model_fields_set]
        if not (self.is_local and unset):
            return self
        server = read_standin_server(self.standin_registry_dir)
        if server is None or not self._served_by(server):
            return self
        for field in unset:
            port = server.get(_STANDIN_PORTS[field])
            if isinstance(port, int) and 0 < port < 65536:
                setattr(self, field, port)
        return self

    def _served_by(self, server: dict[str, Any]) -> bool:
        try:
            root, warehouse = Path(server["root"]), Path(server["warehouse"])
        except (KeyError, TypeError):
            return False
        return root.resolve() == self.root.resolve() and warehouse == self.duckdb_path

    def _malformed_urls(self) -> list[str]:
        problems = []
        for field, variable, schemes, example in _DATABASE_URLS:
            secret: SecretStr | None = getattr(self, field)
            if secret is not None and not _is_database_url(secret.get_secret_value(), schemes):
                # The value itself is never echoed: it holds a password.
                problems.append(f"{variable}: expected a URL like {example}")
        return problems

    def _missing_workspace(self) -> list[str]:
        return [
            name
            for name, value in (
                ("DATABRICKS_HOST", self.databricks_host or self.databricks_profile),
                ("DATABRICKS_HTTP_PATH", self.databricks_http_path),
            )
            if not value
        ]

    def _missing_for_ingestion(self) -> list[str]:
        missing = []
        # Sling and dlt authenticate with a token; they cannot read a Databricks CLI profile.
        if not self.is_local and not self.databricks_token:
            missing.append("DATABRICKS_TOKEN")
        if self.jaffle_shop_source is JaffleShopSource.SQLSERVER and not self.sqlserver_url:
            missing.append("LAKEHOUSE_SQLSERVER_URL")
        return missing

    def check_ingestion(self) -> None:
        """Fail with one message naming each variable the ingestion location still needs.

        Checked when that location is built rather than in `get_settings()`, so the other
        locations (dbt with a CLI profile, notebooks) load without the ingestion credentials.
        """
        missing = self._missing_workspace() if not self.is_local else []
        missing += self._missing_for_ingestion()
        if missing:
            raise SettingsError(
                f"Invalid Lakehouse settings: LAKEHOUSE_ENV={self.env.value} ingestion needs "
                + ", ".join(missing)
                + " (see .env.example)"
            )

    @property
    def jaffle_shop_source(self) -> JaffleShopSource:
        """prod replicates SQL Server (seed 001); dev/staging too when one is set; local the seed CSVs.

        Local stays on the files so a stray LAKEHOUSE_SQLSERVER_URL never makes a fresh clone's
        pipeline depend on a server.
        """
        if self.env is Environment.PROD or (self.sqlserver_url and not self.is_local):
            return JaffleShopSource.SQLSERVER
        return JaffleShopSource.FILES

    @property
    def is_local(self) -> bool:
        return self.env is Environment.LOCAL

    # --- warehouse -------------------------------------------------------------------------
    @property
    def duckdb_path(self) -> Path:
        path = self.duckdb_path_override or self.root / ".lakehouse" / DEFAULT_WAREHOUSE_FILE
        return path if path.is_absolute() else (self.root / path)

    @property
    def state_dir(self) -> Path:
        """Local, untracked state: the warehouse, DAGSTER_HOME, stand-in files."""
        return self.duckdb_path.parent

    @property
    def warehouse_state_dir(self) -> Path:
        """State that belongs to one warehouse file: its stand-ins (registry, runs, Spark catalog)
        and dlt's pipeline state (its incremental cursors). The state folder itself for the default
        `warehouse.duckdb`; `<state>/warehouses/<file stem>/` for another file beside it, so two
        warehouses in one folder never share a stand-in, a Spark table or an incremental cursor."""
        if self.duckdb_path.name == DEFAULT_WAREHOUSE_FILE:
            return self.state_dir
        return self.state_dir / "warehouses" / self.duckdb_path.stem

    @property
    def standin_registry_dir(self) -> Path:
        """Where this warehouse's stand-in server registers (`lakehouse_standins.shared`)."""
        return self.warehouse_state_dir / STANDIN_REGISTRY_DIR

    @property
    def data_dir(self) -> Path:
        """Where the source CSVs are read from (the committed seeds unless overridden)."""
        return self.data_dir_override or self.root / "data"

    @property
    def dbt_dir(self) -> Path:
        return self.root / "dbt"

    @property
    def bundle_target(self) -> BundleTarget:
        """The bundle target of this environment (`local` locally, else the environment's name):
        the one place table names and the warehouse catalog come from (read once per process)."""
        from lakehouse_resources.platform.targets import bundle_for

        return bundle_for(self.root).target("local" if self.is_local else self.env.value)

    @property
    def catalog(self) -> str:
        """The catalog dbt, Sling and dlt write: the bundle target's `warehouse_catalog` (seed 003:
        dev_catalog, staging_catalog, prod_catalog; `main` locally), unless LAKEHOUSE_CATALOG says."""
        return self.catalog_override or self.bundle_target.warehouse_catalog

    @property
    def dbt_target(self) -> str:
        return "local" if self.is_local else self.env.value

    @property
    def dbt_schema(self) -> str:
        """The dbt target schema on Databricks (models with a custom schema use it verbatim)."""
        return self.dbt_schema_override or "jaffle_shop"

    # --- Databricks ------------------------------------------------------------------------
    @property
    def databricks_standin_url(self) -> str:
        return f"http://127.0.0.1:{self.databricks_standin_port}"

    @property
    def databricks_workspace_url(self) -> str | None:
        """An explicit DATABRICKS_HOST wins in every environment; local falls back to the stand-in."""
        if self.databricks_host:
            return self.databricks_host
        return self.databricks_standin_url if self.is_local else None

    @property
    def databricks_hostname(self) -> str | None:
        """The workspace host without scheme, as Sling, dlt and dbt-databricks expect it."""
        url = self.databricks_workspace_url
        return url.split("://", 1)[-1].rstrip("/") if url else None

    @property
    def uses_databricks_standin(self) -> bool:
        return self.is_local and not self.databricks_host

    @property
    def databricks_cluster(self) -> str | None:
        """The cluster for compute=existing_cluster; locally the stand-in's own cluster."""
        if self.databricks_cluster_id:
            return self.databricks_cluster_id
        return LOCAL_STANDIN_CLUSTER_ID if self.uses_databricks_standin else None

    @property
    def databricks_volume(self) -> str:
        return self.databricks_volume_override or f"/Volumes/{self.catalog}/lakehouse/pipes"

    @property
    def databricks_bundle_target(self) -> str:
        """The bundle target deployed to the workspace these settings use (the stand-in's is `local`)."""
        return "local" if self.uses_databricks_standin else self.env.value

    @property
    def databricks_notebook_root(self) -> str:
        """Where the bundle deploys its files (`${workspace.file_path}`), which a submitted task's
        path (`src/<domain>/<source>/<layer>/...`, as its spec names it) is relative to.

        `{current_user}` is the workspace user name, filled in by the client at run time (never
        while Definitions load)."""
        if self.databricks_notebook_root_override:
            return self.databricks_notebook_root_override
        target = self.databricks_bundle_target
        return f"/Workspace/Users/{{current_user}}/.bundle/lakehouse/{target}/files"

    def child_process_env(self) -> dict[str, str]:
        """What dbt profiles, notebooks and other child processes read to find the warehouse."""
        env = {
            "LAKEHOUSE_ENV": self.env.value,
            "LAKEHOUSE_DUCKDB_PATH": str(self.duckdb_path),
            "LAKEHOUSE_CATALOG": self.catalog,
        }
        if not self.is_local:
            # dbt's Databricks targets read these; the token stays in the parent's environment.
            env["LAKEHOUSE_DBT_SCHEMA"] = self.dbt_schema
            if self.databricks_host:
                env["DATABRICKS_HOST"] = self.databricks_host
            if self.databricks_http_path:
                env["DATABRICKS_HTTP_PATH"] = self.databricks_http_path
        return env

    @property
    def ui_url(self) -> str:
        """The Dagster UI: `lakehouse dev` serves it on 127.0.0.1:DAGSTER_PORT unless a deployment says."""
        return (self.ui_url_override or f"http://127.0.0.1:{self.dagster_port}").rstrip("/")

    # --- dbt Cloud -------------------------------------------------------------------------
    @property
    def dbt_cloud_standin_url(self) -> str:
        return f"http://127.0.0.1:{self.dbt_cloud_standin_port}"

    @property
    def uses_dbt_cloud_standin(self) -> bool:
        return self.is_local and not self.dbt_cloud_access_url

    def dbt_cloud_target(self) -> DbtCloudTarget:
        """The account the dbt Cloud client uses; outside local every id and the token are required."""
        if self.is_local:
            token = self.dbt_cloud_token.get_secret_value() if self.dbt_cloud_token else self.standin_token
            return DbtCloudTarget(
                account_id=self.dbt_cloud_account_id or LOCAL_DBT_CLOUD_ID,
                project_id=self.dbt_cloud_project_id or LOCAL_DBT_CLOUD_ID,
                environment_id=self.dbt_cloud_environment_id or LOCAL_DBT_CLOUD_ID,
                access_url=self.dbt_cloud_access_url or self.dbt_cloud_standin_url,
                token=token,
            )
        account, project = self.dbt_cloud_account_id, self.dbt_cloud_project_id
        environment, secret = self.dbt_cloud_environment_id, self.dbt_cloud_token
        if not (account and project and environment and secret):
            required = {
                "DBT_CLOUD_ACCOUNT_ID": account,
                "DBT_CLOUD_TOKEN": secret,
                "DBT_CLOUD_PROJECT_ID": project,
                "DBT_CLOUD_ENVIRONMENT_ID": environment,
            }
            missing = ", ".join(name for name, value in required.items() if not value)
            raise SettingsError(f"Invalid Lakehouse settings: LAKEHOUSE_ENV={self.env.value} needs {missing}")
        return DbtCloudTarget(
            account_id=account,
            project_id=project,
            environment_id=environment,
            access_url=self.dbt_cloud_access_url or DBT_CLOUD_DEFAULT_ACCESS_URL,
            token=secret.get_secret_value(),
        )

    # --- local stand-ins -------------------------------------------------------------------
    @property
    def standin_token_path(self) -> str:
        """The file holding `standin_token` (made if missing)."""
        self.standin_token  # noqa: B018 - makes the file
        return str(self.state_dir / STANDIN_TOKEN_FILE)

    @property
    def standin_token(self) -> str:
        """The token both local stand-ins require and the clients send: one per checkout, made on first use.

        The stand-ins listen on 127.0.0.1, where any web page or local user could otherwise submit work.
        """
        path = self.state_dir / STANDIN_TOKEN_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: of two processes starting at once, one writes and both read the same token.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as file:
                    file.write(secrets.token_urlsafe(32))
        for _ in range(50):  # the writer may not have written yet
            if token := path.read_text().strip():
                return token
            time.sleep(0.01)
        raise SettingsError(f"The stand-in token file {path} is empty: delete it and start again.")


def get_settings(**overrides: object) -> LakehouseSettings:
    """Read the settings now; fail with one message naming each bad variable."""
    try:
        return LakehouseSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            field = LakehouseSettings.model_fields.get(where)
            alias = field.validation_alias if field else None
            names = alias.choices if isinstance(alias, AliasChoices) else [where]
            message = error["msg"].removeprefix("Value error, ")
            problems.append(
                message if where == "settings" else f"{'/'.join(str(n) for n in names)}: {message}"
            )
        raise SettingsError("Invalid Lakehouse settings: " + "; ".join(problems)) from None
