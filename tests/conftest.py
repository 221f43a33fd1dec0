"""Shared fixtures: app/client/runner (flaskr style) plus factories for people and the demo cohort.

The suite runs on SQLite by default and on PostgreSQL when IMH_TEST_DATABASE_URL is set. The
schema always comes from the migrations (never create_all), so every test also exercises them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from imh_course.extensions import db

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("IMH_TEST_DATABASE_URL")
TEST_PASSWORD = "correct-horse-battery"


def _base_config(database_url: str, **extra: object) -> dict[str, object]:
    return {"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **extra}


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database: a SQLite file to copy per test, or the PostgreSQL URL."""
    if PG_URL:
        _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("template") / "template.sqlite3")
    app = create_app(_base_config(url))
    with app.app_context():
        upgrade(directory=app.config["IMH_MIGRATIONS_DIR"])
        db.engine.dispose()
    return url


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename LIKE 'imh_%'")
            )
            .scalars()
            .all()
        )
        if tables:
            # The audit trail refuses TRUNCATE (migration 0006); a superuser's replica role skips
            # triggers, for this transaction only.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A fresh, migrated database for one test."""
    if PG_URL:
        _truncate_postgres(PG_URL)
        return PG_URL
    target = tmp_path / "test.sqlite3"
    shutil.copyfile(database_template.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config() -> dict[str, object]:
    """Extra settings for one test's app (override in a test module to change them)."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, object]) -> Iterator[Flask]:
    app = create_app(_base_config(database_url, **app_config))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def load_content():  # noqa: ANN201
    """Validate and sync the shipped curriculum into the current app's database; return the catalog."""
    from imh_course.content.loader import load_catalog
    from imh_course.content.sync import sync_catalog

    catalog = load_catalog(REPO_ROOT)
    sync_catalog(catalog)
    db.session.commit()
    return catalog


@pytest.fixture
def content(app: Flask):  # noqa: ARG001
    """The shipped curriculum, validated and synced (what `make run` loads)."""
    return load_content()


@dataclass
class Demo:
    offering_id: int
    coordinator_id: int
    instructor_id: int
    lcsw_id: int
    lmhc_id: int
    nurse_id: int


def build_demo() -> Demo:
    """Build the demo cohort in the current app's database (the content must be loaded)."""
    from imh_course.operations.accounts import find_user
    from imh_course.operations.demo import ensure_demo

    result = ensure_demo(date.today(), password=TEST_PASSWORD, provider="Test Provider")
    db.session.commit()
    ids = {
        email: find_user(email).id
        for email in (
            "coordinator@example.org",
            "instructor@example.org",
            "lcsw@example.org",
            "lmhc@example.org",
            "nurse@example.org",
        )
    }
    return Demo(
        offering_id=result.offering.id,
        coordinator_id=ids["coordinator@example.org"],
        instructor_id=ids["instructor@example.org"],
        lcsw_id=ids["lcsw@example.org"],
        lmhc_id=ids["lmhc@example.org"],
        nurse_id=ids["nurse@example.org"],
    )


@pytest.fixture
def demo(app: Flask, content) -> Demo:  # noqa: ARG001
    """The demo cohort: one offering with 11 meetings, a coordinator, an instructor and 3 learners."""
    return build_demo()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., object]:
    """Factory: ``make_user(role=Role.LEARNER, email=..., license_type=...)`` -> committed User."""
    from imh_course.models.audit_chain import Actor
    from imh_course.operations.accounts import ProfileData, create_user
    from imh_course.security.roles import Role

    counter = {"n": 0}

    def factory(
        role: Role | str = Role.LEARNER,
        *,
        email: str | None = None,
        full_name: str | None = None,
        roles: list[Role] | None = None,
        license_type: str | None = None,
        license_number: str | None = None,
        password: str = TEST_PASSWORD,
    ):
        counter["n"] += 1
        n = counter["n"]
        role_list = roles or [Role(role)]
        name = full_name or f"Person {n}"
        profile = (
            ProfileData(certificate_name=name, license_type=license_type, license_number=license_number)
            if Role.LEARNER in role_list
            else None
        )
        user = create_user(
            Actor.system(),
            email=email or f"person{n}@example.org",
            full_name=name,
            roles=role_list,
            password=password,
            profile=profile,
        )
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str, str], object]:
    """Sign the test client in through the real sign-in form."""

    def do_login(email: str, password: str = TEST_PASSWORD):
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, f"sign-in failed for {email}"
        return response

    return do_login
