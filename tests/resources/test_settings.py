from pathlib import Path

import pytest
from lakehouse_resources.settings import Environment, SettingsError, get_settings


def test_defaults_need_no_variables(clean_env: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    assert settings.env is Environment.LOCAL
    assert settings.duckdb_path == settings.root / ".lakehouse" / "warehouse.duckdb"
    assert settings.dbt_target == "local"
    assert settings.databricks_workspace_url == settings.databricks_standin_url
    assert (settings.root / "workspace.yaml").exists()


def test_relative_warehouse_path_is_under_the_repo(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAKEHOUSE_DUCKDB_PATH", "elsewhere/w.duckdb")
    settings = get_settings()
    assert settings.duckdb_path == settings.root / "elsewhere" / "w.duckdb"
    assert settings.child_process_env()["LAKEHOUSE_DUCKDB_PATH"] == str(settings.duckdb_path)


def test_bad_environment_names_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAKEHOUSE_ENV", "production")
    with pytest.raises(SettingsError, match="LAKEHOUSE_ENV") as err:
        get_settings()
    assert "local" in str(err.value)


def test_bad_values_are_reported_together(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAKEHOUSE_DATABRICKS_COMPUTE", "gpu")
    clean_env.setenv("DBT_CLOUD_ACCOUNT_ID", "not-a-number")
    with pytest.raises(SettingsError) as err:
        get_settings()
    assert "LAKEHOUSE_DATABRICKS_COMPUTE" in str(err.value)
    assert "DBT_CLOUD_ACCOUNT_ID" in str(err.value)


def test_production_without_a_workspace_names_what_is_missing(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAKEHOUSE_ENV", "prod")
    with pytest.raises(SettingsError, match=r"DATABRICKS_HOST.*DATABRICKS_HTTP_PATH"):
        get_settings()


def test_catalog_follows_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABRICKS_HOST", "https://example.cloud.databricks.com")
    clean_env.setenv("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/abc")
    for env in ("dev", "staging", "prod"):
        clean_env.setenv("LAKEHOUSE_ENV", env)
        settings = get_settings()
        assert settings.catalog == f"{env}_catalog"
        assert settings.dbt_target == env
        assert settings.databricks_workspace_url == "https://example.cloud.databricks.com"


def test_explicit_databricks_host_wins_in_local(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABRICKS_HOST", "http://127.0.0.1:9999")
    assert get_settings().databricks_workspace_url == "http://127.0.0.1:9999"


def test_data_dir_override(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path))
    assert get_settings().data_dir == tmp_path


def test_alert_links_point_at_the_ui(clean_env: pytest.MonkeyPatch) -> None:
    assert get_settings().ui_url == "http://127.0.0.1:3000"
    clean_env.setenv("DAGSTER_PORT", "3100")
    assert get_settings().ui_url == "http://127.0.0.1:3100"
    clean_env.setenv("LAKEHOUSE_UI_URL", "https://dagster.example.com/")
    assert get_settings().ui_url == "https://dagster.example.com"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LAKEHOUSE_DATABRICKS_STANDIN_PORT", "70000", "less than or equal to 65535"),
        ("LAKEHOUSE_DBT_CLOUD_STANDIN_PORT", "0", "greater than or equal to 1"),
        ("DAGSTER_PORT", "99999", "less than or equal to 65535"),
        ("DATABRICKS_HOST", "not a url", "expected an http(s) URL"),
        ("DBT_CLOUD_ACCESS_URL", "cloud.getdbt.com", "expected an http(s) URL"),
        ("LAKEHOUSE_ALERT_WEBHOOK_URL", "ftp://hooks.example.com/x", "expected an http(s) URL"),
        ("LAKEHOUSE_UI_URL", "http://127.0.0.1:70000", "invalid port number"),
    ],
)
def test_bad_ports_and_urls_name_the_variable(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(SettingsError) as err:
        get_settings()
    message = str(err.value)
    assert message.startswith(f"Invalid Lakehouse settings: {variable}: ")
    assert expected in message
    assert "Traceback" not in message


def test_a_bare_workspace_host_gets_https_as_the_sdk_assumes(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABRICKS_HOST", "adb-123.4.azuredatabricks.net/")
    settings = get_settings()
    assert settings.databricks_workspace_url == "https://adb-123.4.azuredatabricks.net"
    assert settings.databricks_hostname == "adb-123.4.azuredatabricks.net"


def test_empty_variables_mean_unset(clean_env: pytest.MonkeyPatch) -> None:
    # dagster_databricks sets DATABRICKS_TOKEN="" on import; an empty port or host is no value either.
    for name in ("DATABRICKS_TOKEN", "DATABRICKS_HOST", "DAGSTER_PORT", "DBT_CLOUD_ACCOUNT_ID"):
        clean_env.setenv(name, "")
    settings = get_settings()
    assert settings.databricks_token is None
    assert settings.databricks_workspace_url == settings.databricks_standin_url
    assert settings.dagster_port == 3000


def test_local_dbt_cloud_target_is_the_standin_with_the_checkout_token(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("LAKEHOUSE_DUCKDB_PATH", str(tmp_path / "state" / "warehouse.duckdb"))
    settings = get_settings()
    target = settings.dbt_cloud_target()
    assert (target.account_id, target.project_id, target.environment_id) == (1, 1, 1)
    assert target.access_url == settings.dbt_cloud_standin_url
    token_file = tmp_path / "state" / "standin-token"
    assert target.token == token_file.read_text() == get_settings().standin_token
    assert len(target.token) >= 32
    assert token_file.stat().st_mode & 0o077 == 0, "the token file must be private"


def test_production_dbt_cloud_target_names_what_is_missing(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAKEHOUSE_ENV", "dev")
    clean_env.setenv("DATABRICKS_HOST", "https://example.cloud.databricks.com")
    clean_env.setenv("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/abc")
    clean_env.setenv("DBT_CLOUD_ACCOUNT_ID", "7")
    with pytest.raises(
        SettingsError, match="needs DBT_CLOUD_TOKEN, DBT_CLOUD_PROJECT_ID, DBT_CLOUD_ENVIRONMENT_ID"
    ):
        get_settings().dbt_cloud_target()


def test_the_cli_reports_a_bad_port_in_one_line_and_exits_2(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lakehouse_cli.main import main

    clean_env.setenv("LAKEHOUSE_DATABRICKS_STANDIN_PORT", "70000")
    assert main(["pipeline"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "Invalid Lakehouse settings: LAKEHOUSE_DATABRICKS_STANDIN_PORT: Input should be less than or equal to 65535"
    )
