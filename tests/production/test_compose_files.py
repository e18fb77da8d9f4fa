"""compose/ parses, each service has a healthcheck, and every password comes from the environment."""

import re

import pytest
import yaml
from lakehouse_resources.paths import repo_root

COMPOSE = repo_root() / "compose"
FILES = {
    "compose.yml": ("postgres", "postgres:16", "POSTGRES_PASSWORD"),
    "compose.m.yml": ("sqlserver", "mcr.microsoft.com/mssql/server:2022", "MSSQL_SA_PASSWORD"),
    "compose.q.yml": ("sqlserver", "quay.io/microsoft/mssql-server:2022", "MSSQL_SA_PASSWORD"),
}
REQUIRED_VARIABLE = re.compile(r"^\$\{(?P<name>[A-Z_]+):\?[^}]+\}$")


def load(name: str) -> dict:
    return yaml.safe_load((COMPOSE / name).read_text())


@pytest.mark.parametrize("name", sorted(FILES))
def test_compose_file_parses_with_a_healthchecked_service(name: str) -> None:
    service_name, image, _ = FILES[name]
    service = load(name)["services"][service_name]
    assert service["image"].startswith(image)
    assert service["healthcheck"]["test"][0] == "CMD-SHELL"
    assert service["healthcheck"]["retries"] > 0
    for port in service["ports"]:
        # published on loopback, with the host port from the environment
        assert re.fullmatch(r"127\.0\.0\.1:\$\{[A-Z_]+:-\d+\}:\d+", port)


@pytest.mark.parametrize("name", sorted(FILES))
def test_passwords_are_required_variables_never_literals(name: str) -> None:
    service_name, _, password_variable = FILES[name]
    environment = load(name)["services"][service_name]["environment"]
    secrets = {key: value for key, value in environment.items() if "PASSWORD" in key}
    assert secrets
    for key, value in secrets.items():
        match = REQUIRED_VARIABLE.match(str(value))
        assert match, f"{name}: {key} must be ${{VAR:?message}}, got {value!r}"
        assert match["name"] == password_variable
    # and no other value smuggles one in: everything is a variable or an obviously public setting
    text = (COMPOSE / name).read_text()
    assert "Passw0rd" not in text
    assert not re.search(r"(?i)-P\s+['\"]?[^$'\"\s]", text)


def test_example_env_lists_every_compose_variable() -> None:
    example = (repo_root() / ".env.example").read_text()
    used = {
        variable
        for path in COMPOSE.glob("*.yml")
        for variable in re.findall(r"\$\{([A-Z_]+)", path.read_text())
    }
    assert used
    assert sorted(v for v in used if v not in example) == []


def test_postgres_init_script_is_mounted_where_the_image_runs_it() -> None:
    volumes = load("compose.yml")["services"]["postgres"]["volumes"]
    assert "./postgres/init:/docker-entrypoint-initdb.d:ro" in volumes
    assert (COMPOSE / "postgres" / "init" / "01_shop.sql").exists()
