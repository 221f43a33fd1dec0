"""Configuration classes for the host app.

Every setting can be overridden from the environment with an ``IMH_`` prefix: ``SECRET_KEY`` is
read from ``IMH_SECRET_KEY``, ``IMH_CREDIT_MODE`` from ``IMH_CREDIT_MODE``. The database URL is
``IMH_DATABASE_URL``. ``IMH_ENV`` picks the class (development, testing, production).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

DEV_SECRET_KEY = "dev-not-secret-change-me"  # noqa: S105 - a placeholder production refuses


class Config:
    """Defaults shared by every environment."""

    SECRET_KEY = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI: str | None = None  # None -> SQLite file under instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    # Long quizzes and reflective writing must not lose answers to an expired token.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Number of reverse proxies in front of the app (ProxyFix); 0 when serving directly.
    IMH_PROXY_COUNT = 0
    # argon2 cost (RFC 9106 low-memory profile); tests lower it for speed.
    IMH_ARGON2_TIME_COST = 3
    IMH_ARGON2_MEMORY_COST = 65536
    IMH_ARGON2_PARALLELISM = 4


class DevelopmentConfig(Config):
    DEBUG = False  # the demo runs without the debugger; set FLASK_DEBUG=1 to opt in


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    IMH_ARGON2_TIME_COST = 1
    IMH_ARGON2_MEMORY_COST = 8
    IMH_ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    # The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain (ASVS 3.4.4).
    SESSION_COOKIE_NAME = "__Host-imh_session"
    REMEMBER_COOKIE_SECURE = True
    SECRET_KEY = None  # must come from IMH_SECRET_KEY


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def env_name_for(key: str) -> str:
    """The environment variable that overrides setting ``key``."""
    if key == "SQLALCHEMY_DATABASE_URI":
        return "IMH_DATABASE_URL"
    return key if key.startswith("IMH_") else f"IMH_{key}"


def coerce(raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the setting's default."""
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"expected a boolean, got {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, timedelta):
        return timedelta(seconds=int(raw))
    return raw


def settings_from_env(
    defaults: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Values from ``IMH_*`` environment variables for every known setting."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for key, default in defaults.items():
        name = env_name_for(key)
        if name in environ:
            try:
                found[key] = coerce(environ[name], default)
            except ValueError as exc:
                raise RuntimeError(f"{name}: {exc}") from exc
    return found


def class_settings(cls: type[Config]) -> dict[str, Any]:
    """The upper-case attributes of a config class, including inherited ones."""
    return {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
