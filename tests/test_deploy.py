"""The deployment files: the compose file renders, and everything it sets is a setting the app
reads, with values the app accepts and services wired in the right order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from server.config import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return INTERPOLATION.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    return value


def render_compose() -> dict[str, Any]:
    """`docker compose config` when the compose plugin is installed; else YAML (anchors and
    merge keys resolved by the loader) with `${VAR:-default}` substituted as compose does."""
    docker = shutil.which("docker")
    if docker:
        done = subprocess.run(
            [docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            rendered: dict[str, Any] = yaml.safe_load(done.stdout)
            return rendered
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    rendered = _interpolate(raw, {k: v for k, v in os.environ.items() if k == "POSTGRES_PASSWORD"})
    return rendered


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return render_compose()


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_services_and_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "app"}
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")
    assert services["migrate"]["command"] == ["contentintel", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["app"]["command"] == ["contentintel", "serve"]
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])


def test_every_variable_is_a_setting_the_app_accepts(compose: dict[str, Any]) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in ("migrate", "app"):
        env = _env(compose["services"][name])
        ours = {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)}
        unknown = {k for k in ours if k.removeprefix(ENV_PREFIX) not in fields}
        assert not unknown, f"{name}: not settings of server/config.py: {unknown}"
        settings = load_settings(**{k.removeprefix(ENV_PREFIX).lower(): v for k, v in ours.items()})
        assert settings.database_url, name


def test_database_url_points_at_the_postgres_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    pg = _env(services["postgres"])
    for name in ("migrate", "app"):
        url = urlsplit(_env(services[name])["CONTENTINTEL_DATABASE_URL"])
        assert url.hostname == "postgres"
        assert url.username == pg["POSTGRES_USER"]
        assert url.password == pg["POSTGRES_PASSWORD"]
        assert url.path.lstrip("/") == pg["POSTGRES_DB"]


def test_app_listens_where_it_is_published_and_checked(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    env = _env(app)
    settings = load_settings(
        host=env["CONTENTINTEL_HOST"], port=env["CONTENTINTEL_PORT"], auth=env["CONTENTINTEL_AUTH"]
    )
    assert settings.host == "0.0.0.0"
    assert settings.auth.value == "on"
    published = app["ports"][0]
    target = published["target"] if isinstance(published, dict) else published.split(":")[-1]
    assert int(target) == settings.port
    assert f":{settings.port}/readyz" in " ".join(app["healthcheck"]["test"])


def test_dockerfile_matches() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "COPY migrations ./migrations" in text
    assert 'CMD ["contentintel", "serve"]' in text
    assert "CONTENTINTEL_HOST=0.0.0.0" in text
    port = re.search(r"CONTENTINTEL_PORT=(\d+)", text)
    assert port
    assert f"EXPOSE {port.group(1)}" in text
    for variable in re.findall(r"(CONTENTINTEL_\w+)=", text):
        assert variable.removeprefix(ENV_PREFIX).lower() in Settings.model_fields, variable
