"""imh-course: the "Infant Mental Health: Theory to Practice" course module for Flask.

Mount it on any Flask app::

    from imh_course import IMHCourse
    IMHCourse(app)            # or: course = IMHCourse(); course.init_app(app)

All state lives in ``app.extensions["imh_course"]``; nothing is stored on the extension object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from .settings import apply_defaults, apply_limiter_defaults, xapi_problems

__all__ = ["IMHCourse", "CourseState"]

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


@dataclass
class CourseState:
    """Per-app state of the module."""

    content_root: Path
    url_prefix: str
    caches: dict[str, Any] = field(default_factory=dict)


class IMHCourse:
    """The Flask extension. Registers models, the blueprint, CLI commands and security hooks."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        from . import cli, errors, templating
        from .extensions import csrf, db, limiter, login_manager, migrate
        from .security import auth, input_guard, sessions
        from .security import hooks as security
        from .security.roles import unassigned_permissions
        from .views.routes import create_blueprint

        apply_defaults(app.config)
        app.config.setdefault("IMH_MIGRATIONS_DIR", MIGRATIONS_DIR)
        missing = unassigned_permissions()
        if missing:
            raise RuntimeError(f"permissions granted to no role: {sorted(missing)}")
        problems = xapi_problems(app.config)
        if problems:
            raise RuntimeError("xAPI settings: " + "; ".join(problems))

        from . import models  # noqa: F401  (register the tables)
        from .reports import matrix_snapshot  # noqa: F401  (its flush hook keeps matrix revisions)

        if "sqlalchemy" not in app.extensions:
            db.init_app(app)
        if "migrate" not in app.extensions:
            migrate.init_app(app, db, directory=app.config["IMH_MIGRATIONS_DIR"])
        if not hasattr(app, "login_manager"):
            login_manager.init_app(app)
        auth.configure_login(login_manager)
        # Load the user afresh for every request, even when a caller (a test, a CLI command)
        # keeps one app context alive across requests: a rotated session token must bite at once.
        app.before_request(auth.forget_cached_user)
        # The limiter must run before CSRF so token-less floods are counted (LIBRARY-NOTES 1.4).
        # Redis down or hung must not break limited routes (the sign-in throttle falls back itself).
        apply_limiter_defaults(app.config)
        if "limiter" not in app.extensions:
            limiter.init_app(app)
        if "csrf" not in app.extensions:
            csrf.init_app(app)

        from .database import configure_engine, install_session_teardown

        install_session_teardown(app)
        with app.app_context():
            configure_engine(db.engine)

        from . import converters

        converters.register(app)
        prefix = app.config["IMH_URL_PREFIX"].rstrip("/")
        app.register_blueprint(create_blueprint(), url_prefix=prefix or None)
        errors.register(app)
        # After errors: wraps its CSRF page with logging; the sign-in throttle goes first of all
        # before_request hooks (ahead of CSRF), the session limits after the user is known.
        security.register(app)
        input_guard.register(app)
        sessions.register(app)
        templating.register(app)
        from . import lti

        lti.register(app)
        from .bench.cli import bench

        if "bench" not in cli.imh.commands:
            cli.imh.add_command(bench)
        app.cli.add_command(cli.imh)

        app.extensions["imh_course"] = CourseState(
            content_root=Path(app.config["IMH_CONTENT_ROOT"]).resolve(), url_prefix=prefix
        )
