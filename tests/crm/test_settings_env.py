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
        ({"SECRET_KEY": "too-short-a-secret"}, "SECRET_KEY is too weak for production mode (it has 18 characters)"),
        ({"SECRET_KEY": "django-insecure-" + "k3y" * 20}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "change-me-" * 6}, "SECRET_KEY is too weak for production mode (it is a well-known"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY is too weak for production mode (it uses only 2 different"),
        ({"SESSION_IDLE_TIMEOUT_MINUTES": "0"}, "SESSION_IDLE_TIMEOUT_MINUTES must be 1 or more"),
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


def test_a_weak_secret_key_is_tolerated_in_development_mode():
    result = run_manage("check", env=process_env(DEBUG="true", SECRET_KEY="dev"))
    assert result.returncode == 0, result.stderr


IS_SECURE = (
    "from django.test import RequestFactory; "
    "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https', HTTP_HOST='crm.example.com').is_secure())"
)


def test_a_forwarded_proto_header_is_believed_only_when_a_proxy_is_declared():
    spoofed = run_manage("shell", "--no-imports", "-c", IS_SECURE, env=process_env(**PRODUCTION))
    assert spoofed.returncode == 0, spoofed.stderr
    assert spoofed.stdout.strip() == "False", "anyone can send X-Forwarded-Proto: https"

    behind_proxy = run_manage(
        "shell", "--no-imports", "-c", IS_SECURE, env=process_env(**PRODUCTION, TRUST_X_FORWARDED_PROTO="true")
    )
    assert behind_proxy.stdout.strip() == "True", behind_proxy.stderr


def test_check_deploy_is_clean_behind_a_declared_tls_proxy():
    env = process_env(**PRODUCTION, TRUST_X_FORWARDED_PROTO="true", SITE_URL="https://crm.example.com")
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


SECURITY = (
    "from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.DEBUG)"
)


def test_production_mode_on_loopback_serves_plain_http_and_elsewhere_forces_https():
    loopback = run_manage(
        "shell",
        "--no-imports",
        "-c",
        SECURITY,
        env=process_env(**{**PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1,localhost"}),
    )
    assert loopback.stdout.split() == ["False", "False", "0", "False"], loopback.stderr
    public = run_manage("shell", "--no-imports", "-c", SECURITY, env=process_env(**PRODUCTION))
    assert public.stdout.split() == ["True", "True", "31536000", "False"], public.stderr
