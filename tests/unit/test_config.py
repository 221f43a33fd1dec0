"""Configuration: IMH_* environment overrides and the production secret guard."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app
from config import coerce, env_name_for, settings_from_env


def test_every_setting_has_an_imh_env_name():
    """Settings are overridden by IMH_-prefixed variables; the database by IMH_DATABASE_URL."""
    assert env_name_for("SECRET_KEY") == "IMH_SECRET_KEY"
    assert env_name_for("IMH_CREDIT_MODE") == "IMH_CREDIT_MODE"
    assert env_name_for("SQLALCHEMY_DATABASE_URI") == "IMH_DATABASE_URL"


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ("yes", False, True),
        ("0", True, False),
        ("45", 60, 45),
        ("1.5", 2.0, 1.5),
        ("60", timedelta(1), timedelta(seconds=60)),
        ("abc", "x", "abc"),
    ],
)
def test_env_strings_take_the_type_of_the_default(raw, default, expected):
    """An environment string becomes the type of the setting it overrides."""
    assert coerce(raw, default) == expected


def test_bad_boolean_names_the_variable():
    """A malformed override fails with the variable's name, not a stack trace."""
    with pytest.raises(RuntimeError, match="IMH_TESTING"):
        settings_from_env({"TESTING": False}, {"IMH_TESTING": "maybe"})


def test_environment_overrides_module_settings(monkeypatch, tmp_path):
    """IMH_CREDIT_INCREMENT_MINUTES in the environment reaches app.config as an int."""
    monkeypatch.setenv("IMH_CREDIT_INCREMENT_MINUTES", "5")
    monkeypatch.setenv("IMH_URL_PREFIX", "/imh")
    app = create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["IMH_CREDIT_INCREMENT_MINUTES"] == 5
    assert any(rule.rule == "/imh/login" for rule in app.url_map.iter_rules())


def test_production_refuses_to_start_without_a_secret(monkeypatch, tmp_path):
    """In production the app will not start with the development placeholder secret."""
    monkeypatch.delenv("IMH_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="IMH_SECRET_KEY"):
        create_app({"IMH_ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_refuses_to_start_without_a_base_url(monkeypatch, tmp_path):
    """Emailed links never take their host from a request's (forgeable) Host header in production."""
    monkeypatch.setenv("IMH_SECRET_KEY", "a" * 48)
    monkeypatch.delenv("IMH_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="IMH_BASE_URL"):
        create_app({"IMH_ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_starts_with_a_real_secret(monkeypatch, tmp_path):
    """With IMH_SECRET_KEY and IMH_BASE_URL set, production starts and cookies are Secure."""
    monkeypatch.setenv("IMH_SECRET_KEY", "a" * 48)
    monkeypatch.setenv("IMH_BASE_URL", "https://training.example.org")
    app = create_app({"IMH_ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_unknown_environment_is_refused(tmp_path):
    """A typo in IMH_ENV is an error, not a silent fallback."""
    with pytest.raises(RuntimeError, match="IMH_ENV"):
        create_app({"IMH_ENV": "prod", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_limiter_defaults_bound_redis_waits_and_keep_the_hosts_choices():
    """Redis URLs get 1-second timeouts unless the host chose others; other storages are left alone."""
    from imh_course.settings import apply_limiter_defaults

    redis_config = {
        "RATELIMIT_STORAGE_URI": "redis://cache:6379",
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 5},
    }
    apply_limiter_defaults(redis_config)
    assert redis_config["RATELIMIT_STORAGE_OPTIONS"] == {"socket_timeout": 5, "socket_connect_timeout": 1.0}
    assert redis_config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    memory_config = {"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False}
    apply_limiter_defaults(memory_config)
    assert "RATELIMIT_STORAGE_OPTIONS" not in memory_config
    assert memory_config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is False
