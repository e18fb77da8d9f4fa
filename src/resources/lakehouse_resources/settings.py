"""The one place that resolves the environment and everything that depends on it.

Settings are read when Definitions are built or a run starts (`get_settings()`), never at import.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lakehouse_resources.paths import repo_root


class Environment(StrEnum):
    LOCAL = "local"
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class DatabricksCompute(StrEnum):
    SERVERLESS = "serverless"
    EXISTING_CLUSTER = "existing_cluster"
    JOB_CLUSTER = "job_cluster"


class SettingsError(ValueError):
    """Raised with one message that names every bad or missing variable."""


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class LakehouseSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    env: Environment = Field(Environment.LOCAL, validation_alias=_env("LAKEHOUSE_ENV"))
    root: Path = Field(default_factory=repo_root, validation_alias=_env("LAKEHOUSE_ROOT"))
    duckdb_path_override: Path | None = Field(None, validation_alias=_env("LAKEHOUSE_DUCKDB_PATH"))
    catalog_override: str | None = Field(None, validation_alias=_env("LAKEHOUSE_CATALOG"))
    data_dir_override: Path | None = Field(None, validation_alias=_env("LAKEHOUSE_DATA_DIR"))

    # Databricks: the workspace for notebooks, dbt-databricks, Sling and dlt in dev/staging/prod.
    databricks_host: str | None = Field(None, validation_alias=_env("DATABRICKS_HOST"))
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
    dbt_cloud_access_url: str | None = Field(None, validation_alias=_env("DBT_CLOUD_ACCESS_URL"))
    dbt_cloud_token: SecretStr | None = Field(None, validation_alias=_env("DBT_CLOUD_TOKEN"))
    dbt_cloud_project_id: int | None = Field(None, validation_alias=_env("DBT_CLOUD_PROJECT_ID"))
    dbt_cloud_environment_id: int | None = Field(None, validation_alias=_env("DBT_CLOUD_ENVIRONMENT_ID"))

    # Local stand-ins (127.0.0.1 only).
    databricks_standin_port: int = Field(8765, validation_alias=_env("LAKEHOUSE_DATABRICKS_STANDIN_PORT"))
    dbt_cloud_standin_port: int = Field(8766, validation_alias=_env("LAKEHOUSE_DBT_CLOUD_STANDIN_PORT"))

    # Run-failure notifications: a log line unless a webhook is configured.
    alert_webhook_url: str | None = Field(None, validation_alias=_env("LAKEHOUSE_ALERT_WEBHOOK_URL"))

    @model_validator(mode="after")
    def _production_needs_a_workspace(self) -> LakehouseSettings:
        if self.is_local:
            return self
        missing = [
            name
            for name, value in (
                ("DATABRICKS_HOST", self.databricks_host or self.databricks_profile),
                ("DATABRICKS_HTTP_PATH", self.databricks_http_path),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"LAKEHOUSE_ENV={self.env.value} needs " + ", ".join(missing) + " (see .env.example)"
            )
        return self

    @property
    def is_local(self) -> bool:
        return self.env is Environment.LOCAL

    # --- warehouse -------------------------------------------------------------------------
    @property
    def duckdb_path(self) -> Path:
        path = self.duckdb_path_override or self.root / ".lakehouse" / "warehouse.duckdb"
        return path if path.is_absolute() else (self.root / path)

    @property
    def state_dir(self) -> Path:
        """Local, untracked state: the warehouse, DAGSTER_HOME, stand-in files."""
        return self.duckdb_path.parent

    @property
    def data_dir(self) -> Path:
        """Where the source CSVs are read from (the committed seeds unless overridden)."""
        return self.data_dir_override or self.root / "data"

    @property
    def dbt_dir(self) -> Path:
        return self.root / "dbt"

    @property
    def catalog(self) -> str:
        """Unity Catalog catalog per environment (seed 003: dev_catalog, staging_catalog, prod_catalog)."""
        return self.catalog_override or ("main" if self.is_local else f"{self.env.value}_catalog")

    @property
    def dbt_target(self) -> str:
        return "local" if self.is_local else self.env.value

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
    def databricks_volume(self) -> str:
        return self.databricks_volume_override or f"/Volumes/{self.catalog}/lakehouse/pipes"

    @property
    def databricks_notebook_root(self) -> str:
        if self.databricks_notebook_root_override:
            return self.databricks_notebook_root_override
        if self.is_local and not self.databricks_host:
            return str(self.root / "notebooks")
        return "/Workspace/Shared/lakehouse/notebooks"

    def child_process_env(self) -> dict[str, str]:
        """What dbt profiles, notebooks and other child processes read to find the warehouse."""
        return {
            "LAKEHOUSE_ENV": self.env.value,
            "LAKEHOUSE_DUCKDB_PATH": str(self.duckdb_path),
            "LAKEHOUSE_CATALOG": self.catalog,
        }

    # --- dbt Cloud -------------------------------------------------------------------------
    @property
    def dbt_cloud_standin_url(self) -> str:
        return f"http://127.0.0.1:{self.dbt_cloud_standin_port}"


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
            problems.append(message if where == "settings" else f"{'/'.join(str(n) for n in names)}: {message}")
        raise SettingsError("Invalid Lakehouse settings: " + "; ".join(problems)) from None
