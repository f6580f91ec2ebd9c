"""Configuration from the environment: production mode is clean, bad values stop start-up loudly."""

from __future__ import annotations

import pytest

from tests.support import process_env, run_manage

pytestmark = pytest.mark.slow

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghij",
    "ALLOWED_HOSTS": "crm.example.com",
}


def test_check_deploy_is_clean_in_production_mode():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=process_env(**PRODUCTION))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_complains_in_development_mode():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=process_env(DEBUG="true"))
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "false", "SECRET_KEY": "", "ALLOWED_HOSTS": "x"}, "SECRET_KEY must be set"),
        ({"DEBUG": "false", "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"DATABASE_URL": "mysql://root@localhost/relais"}, "DATABASE_URL must point to PostgreSQL"),
        ({"REDIS_URL": "http://localhost:6379"}, "must start with redis://"),
        ({"DATABASE_CONN_MAX_AGE": "forever"}, "DATABASE_CONN_MAX_AGE='forever' is not a whole number"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be 'console' or 'json'"),
    ],
)
def test_a_bad_value_stops_start_up_and_names_the_variable(overrides, message):
    result = run_manage("check", env=process_env(**{**PRODUCTION, **overrides}))
    assert result.returncode != 0
    assert message in result.stderr


def test_a_development_secret_key_is_generated_once_into_var(tmp_path):
    env = process_env(
        DEBUG="true", RELAIS_VAR_DIR=str(tmp_path), DATABASE_URL="postgres://u@h/d", REDIS_URL="redis://h"
    )
    first = run_manage(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", env=env
    )
    second = run_manage(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", env=env
    )
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50
    assert second.stdout.strip() == key
    assert (tmp_path / "secret_key").read_text().strip() == key
