"""The host application: builds Flask, loads config.py and mounts the course module.

A different host mounts the module the same way: ``IMHCourse(app)`` after its own configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from config import CONFIGS, DEV_SECRET_KEY, class_settings, settings_from_env
from imh_course import IMHCourse

course = IMHCourse()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory used by ``flask``, gunicorn and the tests.

    :param config: settings that win over the config class and the environment (tests use it).
    """
    app = Flask(__name__, instance_relative_config=True)
    overrides = dict(config or {})
    env_name = overrides.pop("IMH_ENV", None) or os.environ.get("IMH_ENV", "development")
    if env_name not in CONFIGS:
        raise RuntimeError(f"IMH_ENV must be one of {sorted(CONFIGS)}, got {env_name!r}")
    defaults = class_settings(CONFIGS[env_name])
    app.config.update(defaults)
    app.config.update(settings_from_env({**defaults, **_module_setting_defaults()}))
    app.config.update(overrides)
    app.config["IMH_ENV"] = env_name

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "imh.sqlite3")
    if env_name == "production" and app.config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        raise RuntimeError("Production needs a real secret: set IMH_SECRET_KEY to a long random value.")
    if env_name == "production" and not app.config.get("IMH_BASE_URL"):
        # Emailed links (password resets, invitations) must not take their host from the request:
        # a forged Host header would send a learner's reset link to someone else's server.
        raise RuntimeError(
            "Production needs IMH_BASE_URL (e.g. https://training.example.org): emailed links use it."
        )

    proxies = int(app.config.get("IMH_PROXY_COUNT", 0) or 0)
    if proxies:
        # Behind N reverse proxies: trust their X-Forwarded-* so rate limits see the real client.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    course.init_app(app)
    return app


def _module_setting_defaults() -> dict[str, Any]:
    from imh_course.settings import DEFAULTS

    return dict(DEFAULTS)
