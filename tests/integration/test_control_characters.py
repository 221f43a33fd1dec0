"""Control characters (NUL, BEL, ESC …) are refused at the edge, never a 500 (issue 14 item 4).

PostgreSQL answered 500 when a NUL reached an INSERT; SQLite stored it and it reached the CSV
exports. Generated from ``app.url_map`` and the module's form classes: every route and method,
every text field name, every string URL segment, every query string — refused with a message
that says why, and nothing written.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, IntegerConverter
from wtforms import Form as PlainForm
from wtforms.fields import StringField, TextAreaField

from imh_course.extensions import db
from imh_course.models import AuditEvent, ExerciseResponse, User
from tests.integration.learner_helpers import exercise_for
from tests.integration.test_roster_import import HEADER, csv_bytes, upload

CONTROLS = ("a\x00b", "a\x07b", "a\x1b[31mb")
ROLES = ("coordinator@example.org", "instructor@example.org", "lcsw@example.org")
MESSAGE = "contains a control character"


def _module_rules(app: Flask) -> list:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("imh.")]


def _path(rule, *, string_value: str = "x") -> str:
    path = rule.rule
    for name, conv in rule._converters.items():
        if isinstance(conv, IntegerConverter):
            value = "1"
        elif isinstance(conv, AnyConverter):
            value = sorted(conv.items)[0]
        else:
            value = string_value
        path = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{name}>", value, path)
    return path


def _text_field_names() -> set[str]:
    """Every StringField/TextAreaField name declared by a form class of the module."""
    import imh_course

    names: set[str] = set()
    for info in pkgutil.walk_packages(imh_course.__path__, "imh_course."):
        if "forms" not in info.name:
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, PlainForm):
                for attr, field in vars(value).items():
                    if getattr(field, "field_class", None) in (StringField, TextAreaField) or (
                        isinstance(getattr(field, "field_class", None), type)
                        and issubclass(field.field_class, StringField)
                    ):
                        names.add(attr)
    return names


def _rows_written() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_the_form_walk_finds_the_text_fields() -> None:
    names = _text_field_names()
    assert {"body", "reason", "name", "email"} <= names, names


@pytest.mark.parametrize("email", ROLES)
def test_every_post_route_refuses_control_characters_in_every_text_field(
    app: Flask, demo, client, login, email
) -> None:  # noqa: ARG001
    app.config["WTF_CSRF_ENABLED"] = False
    login(email)
    fields = sorted(_text_field_names())
    before = _rows_written()
    failures = []
    for rule in _module_rules(app):
        if "POST" not in rule.methods:
            continue
        for bad in CONTROLS:
            response = client.post(_path(rule), data={name: bad for name in fields})
            if response.status_code != 400 or MESSAGE not in response.get_data(as_text=True):
                failures.append((rule.rule, repr(bad), response.status_code))
    assert failures == []
    assert _rows_written() == before


@pytest.mark.parametrize("email", ROLES)
def test_query_strings_and_string_segments_with_control_characters_are_refused(
    app: Flask, demo, client, login, email
) -> None:  # noqa: ARG001
    login(email)
    failures = []
    for rule in _module_rules(app):
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(_path(rule) + "?q=a%00b", method=method)
            if response.status_code != 400:
                failures.append((method, rule.rule, "query", response.status_code))
            if any(not isinstance(c, IntegerConverter | AnyConverter) for c in rule._converters.values()):
                response = client.open(_path(rule, string_value="a%00b"), method=method)
                if response.status_code >= 500 or response.status_code == 200:
                    failures.append((method, rule.rule, "segment", response.status_code))
    assert failures == []


def test_a_nul_in_an_exercise_is_refused_and_nothing_is_stored(app: Flask, demo, client, login) -> None:
    login("nurse@example.org")
    url = f"/learn/offerings/{demo.offering_id}/exercises/{exercise_for(2).key}"
    response = client.post(url, data={"body": "my reflection\x00", "submit_response": "Submit"})
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ExerciseResponse)) == 0


def test_tabs_and_line_breaks_in_an_exercise_are_kept(app: Flask, demo, client, login) -> None:
    login("nurse@example.org")
    url = f"/learn/offerings/{demo.offering_id}/exercises/{exercise_for(2).key}"
    text = "first line\r\nsecond\tline"
    response = client.post(url, data={"body": text, "submit_response": "Submit"})
    assert response.status_code == 302
    assert db.session.scalar(select(ExerciseResponse.body)).replace("\r\n", "\n") == text.replace(
        "\r\n", "\n"
    )


def test_a_nul_in_a_roster_line_names_the_line_and_column(app: Flask, demo, client, login) -> None:
    login("coordinator@example.org")
    users = db.session.scalar(select(func.count()).select_from(User))
    raw = csv_bytes(
        HEADER,
        "Zoë Ñuñez,zoe@example.org,Social work,LCSW,012345,grant-funded",
        "Sam\x00 Smith,sam@example.org,,,,",
    )
    response = upload(client, demo.offering_id, raw)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 3" in page and "The name column contains a control character" in page
    assert db.session.scalar(select(func.count()).select_from(User)) == users
