"""Ids beyond the column range are an ordinary 404, never a 500 (issue 14 item 3).

Generated from ``app.url_map``: every rule with an integer converter, every method, as a signed-in
coordinator, instructor and learner; each integer segment in turn gets a value past PostgreSQL
INTEGER, past BIGINT, and 10**20 (past SQLite's 64-bit integers).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from imh_course.extensions import db
from imh_course.models import QuizAttempt

HUGE = (2**31, 2**63, 10**20)
ROLES = ("coordinator@example.org", "instructor@example.org", "lcsw@example.org")


def _int_rules(app: Flask) -> list:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(conv, IntegerConverter) for conv in rule._converters.values())
    ]


def _urls(rule) -> list[str]:
    """One URL per (integer argument, huge value); other integer arguments are 1."""
    ints = [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
    urls = []
    for target in ints:
        for value in HUGE:
            path = rule.rule
            for name, conv in rule._converters.items():
                sub = str(value) if name == target else ("1" if isinstance(conv, IntegerConverter) else "x")
                path = re.sub(rf"<(?:[a-z]+:)?{name}>", sub, path)
            urls.append(path)
    return urls


def test_the_module_routes_use_integer_converters(app: Flask) -> None:
    assert len(_int_rules(app)) > 20


@pytest.mark.parametrize("email", ROLES)
def test_out_of_range_ids_are_404_for_every_route_and_method(app: Flask, demo, client, login, email) -> None:  # noqa: ARG001
    app.config["WTF_CSRF_ENABLED"] = False
    login(email)
    failures = []
    for rule in _int_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for url in _urls(rule):
                status = client.open(url, method=method).status_code
                if status != 404:
                    failures.append((method, url, status))
    assert failures == []


@pytest.mark.parametrize("version", [str(2**31), str(10**20), "-1", "²"])
def test_forged_quiz_version_is_a_400_that_writes_nothing(app: Flask, demo, client, login, version) -> None:
    from tests.integration.learner_helpers import quiz_for, quiz_form

    app.config["WTF_CSRF_ENABLED"] = False
    login("lcsw@example.org")
    quiz = quiz_for(1)
    data = {**quiz_form(quiz, 1), "quiz_version": version}
    attempts = db.session.scalar(select(func.count()).select_from(QuizAttempt))
    response = client.post(f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}", data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == attempts  # nothing written
