"""No N+1: the number of SQL statements of a page does not grow with the data.

``test_page_statements_do_not_grow_with_data`` covers every GET route of ``app.url_map``: each is
requested by every kind of person ``tests/access_world.py EXPECTED`` lets open it, once with small
data and once after adding 40 learners with a term of records and certificates, more offerings,
feedback, authored content and audit events (``query_count_helpers.grow``); the two counts must be
equal. A route is either measured or listed in ``EXEMPT`` with a reason, and
``test_every_get_route_is_measured_or_exempt`` fails for a new route that is neither.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask, url_for

from app import create_app
from imh_course.extensions import db
from imh_course.security.roles import Role
from tests.access_world import EMAILS, EXPECTED, PERSONAS
from tests.conftest import PG_URL, _base_config, _truncate_postgres
from tests.integration.learner_helpers import exercise_for, quiz_for, quiz_form, readings_for
from tests.integration.query_count_helpers import (
    Counted,
    World,
    build_world,
    grow,
    login,
    logout,
    request_counted,
)

#: Who requests each page: every one of these whom EXPECTED lets open it (the "other_*" personas
#: see the same pages as their namesakes, with less data).
MEASURED_PERSONAS = ("anonymous", "learner", "instructor", "coordinator", "admin")

#: GET routes not measured, with the reason.
EXEMPT: dict[str, str] = {
    "static": "the host's static files: no database",
    "imh.static": "the module's CSS and scripts: no database",
    "imh.lti_login": "refused for everyone without the platform's signed login request (403)",
    "imh.lti_continue": "refused for everyone without a one-time ticket from a launch (403)",
}

#: Values tried for a URL argument (one page per value); other arguments take the world's value.
VARIANTS: dict[str, tuple[str, ...]] = {"fmt": ("csv", "xlsx")}

#: Known N+1s in pages owned by other work in progress: endpoint -> where (strict xfail, so the
#: entry must go once the page is fixed).
N_PLUS_ONE: dict[str, str] = {}

SMALL = {"learners": 3, "rounds": 1}
LARGE = {"learners": 40, "rounds": 3}


@dataclass(frozen=True)
class Page:
    endpoint: str
    persona: str
    arguments: tuple[tuple[str, str], ...] = ()  # a variant's values, e.g. (("fmt", "xlsx"),)

    @property
    def id(self) -> str:
        variant = "".join(f".{value}" for _name, value in self.arguments)
        return f"{self.endpoint}{variant}:{self.persona}"


def _variants(rule) -> list[tuple[tuple[str, str], ...]]:  # noqa: ANN001
    names = sorted(a for a in rule.arguments if a in VARIANTS)
    combos: list[tuple[tuple[str, str], ...]] = [()]
    for name in names:
        combos = [(*combo, (name, value)) for combo in combos for value in VARIANTS[name]]
    return combos


def get_rules(app: Flask) -> list:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.methods is not None and "GET" in r.methods),
        key=lambda r: (r.rule, r.endpoint),
    )


def pages_of(app: Flask) -> list[Page]:
    """One page per GET route not exempt, per person allowed to open it, per variant."""
    pages = []
    for rule in get_rules(app):
        if rule.endpoint in EXEMPT or rule.endpoint not in EXPECTED:
            continue
        outcomes = dict(zip(PERSONAS, EXPECTED[rule.endpoint].split(), strict=True))
        for persona in MEASURED_PERSONAS:
            if outcomes[persona] == "ok":
                pages.extend(Page(rule.endpoint, persona, variant) for variant in _variants(rule))
    return pages


def _collection_app() -> Flask:
    return create_app(_base_config("sqlite://"))


PAGES = pages_of(_collection_app())


def _param(page: Page):  # noqa: ANN202
    reason = N_PLUS_ONE.get(page.endpoint)
    marks = [pytest.mark.xfail(strict=True, reason=f"N+1: {reason}")] if reason else []
    return pytest.param(page, id=page.id, marks=marks)


# --- measuring ------------------------------------------------------------------------------------


def _url(app: Flask, page: Page, world: World) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == page.endpoint)
    values: dict[str, object] = {}
    for name in rule.arguments:
        if name == "key":
            kind = "quiz_key" if "/quizzes/" in rule.rule else "exercise_key"
            values[name] = world.values["reading_key" if "/readings/" in rule.rule else kind]
        else:
            values[name] = world.values[name]
    values.update(dict(page.arguments))
    with app.test_request_context():
        return url_for(page.endpoint, **values)


def measure(app: Flask, client, world: World, pages: list[Page]) -> dict[str, Counted]:  # noqa: ANN001
    """Each page's status and statement count, person by person (after one uncounted warm-up request)."""
    found = {}
    for persona in MEASURED_PERSONAS:
        mine = [p for p in pages if p.persona == persona]
        if not mine:
            continue
        if persona != "anonymous":
            login(client, EMAILS[persona])
        for page in mine:
            url = _url(app, page, world)
            request_counted(client, url)  # warm-up: lazy caches fill on the first request
            found[page.id] = request_counted(client, url)
        if persona != "anonymous":
            logout(client)
    return found


@pytest.fixture(scope="module")
def measurements(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Every page measured with small data, then again after growing the data a lot."""
    if PG_URL:
        _truncate_postgres(PG_URL)
        url = PG_URL
    else:
        target = tmp_path_factory.mktemp("query_counts") / "test.sqlite3"
        shutil.copyfile(database_template.removeprefix("sqlite:///"), target)
        url = f"sqlite:///{target}"
    app = create_app(_base_config(url))
    with app.app_context():
        try:
            client = app.test_client()
            world = build_world(app, client)
            grow(world, **SMALL)
            small = measure(app, client, world, PAGES)
            grow(world, **LARGE)
            large = measure(app, client, world, PAGES)
            db.session.remove()  # no transaction left open: later tests truncate the PostgreSQL tables
            yield {"small": small, "large": large}
        finally:
            db.session.remove()
            db.engine.dispose()


_NUMBERS = re.compile(r"\b\d+\b|\?(, \?)*|%\(\w+\)s(, %\(\w+\)s)*|\$\d+")


def _extra_statements(small: list[str], large: list[str]) -> str:
    """The statements the large run sent more often than the small one (parameters folded)."""
    shape = lambda s: _NUMBERS.sub("…", " ".join(s.split()))[:300]  # noqa: E731
    more = Counter(map(shape, large)) - Counter(map(shape, small))
    return "\n".join(f"  +{n}× {statement}" for statement, n in more.most_common(8))


# --- tests ----------------------------------------------------------------------------------------


def test_every_get_route_is_measured_or_exempt():
    """A new GET route cannot escape the N+1 check: it is measured, or exempt with a reason."""
    endpoints = {r.endpoint for r in get_rules(_collection_app())}
    measured = {p.endpoint for p in PAGES}
    missing = sorted(endpoints - measured - EXEMPT.keys())
    assert missing == [], (
        "GET routes neither measured nor exempt (give them a row in tests/access_world.py EXPECTED "
        "that lets someone open them, or an EXEMPT entry with a reason): " + ", ".join(missing)
    )
    assert sorted(EXEMPT.keys() - endpoints) == [], "EXEMPT names routes that no longer exist"
    assert sorted(EXEMPT.keys() & measured) == [], "a route is both measured and exempt"
    assert sorted(N_PLUS_ONE.keys() - measured) == [], "N_PLUS_ONE names routes that are not measured"
    assert all(reason.strip() for reason in EXEMPT.values())


@pytest.mark.parametrize("route", [_param(p) for p in PAGES])
def test_page_statements_do_not_grow_with_data(measurements, route: Page):
    """The page answers the same way and sends as many SQL statements with 40 more learners (and their
    records, certificates, feedback, other offerings, authored content and audit events) as before."""
    small, large = measurements["small"][route.id], measurements["large"][route.id]
    assert small.status < 400, f"{route.id}: status {small.status} with small data"
    assert "/login" not in small.location, f"{route.id}: sent to sign in"
    assert large.status == small.status, f"{route.id}: status {small.status} then {large.status}"
    assert large.count == small.count, (
        f"{route.id}: {small.count} statements with small data, {large.count} with large data:\n"
        + _extra_statements(small.statements, large.statements)
    )


# --- the learner's own work, through the real pages -----------------------------------------------


def statements_for(client, url: str) -> int:  # noqa: ANN001
    request_counted(client, url)  # warm-up: lazy caches (the published content) fill on the first request
    counted = request_counted(client, url)
    assert counted.status == 200
    return counted.count


def learner_pages(offering_id: int) -> list[str]:
    base = f"/learn/offerings/{offering_id}"
    return [base, f"{base}/sessions/1", f"{base}/sessions/4", f"{base}/transcript"]


def do_lots_of_work(client, offering_id: int) -> None:  # noqa: ANN001
    """Mark every reading, submit every exercise and take two attempts at every quiz."""
    for number in range(1, 12):
        for reading in readings_for(number):
            client.post(f"/learn/offerings/{offering_id}/readings/{reading.key}/complete")
        exercise = exercise_for(number)
        client.post(
            f"/learn/offerings/{offering_id}/exercises/{exercise.key}",
            data={"body": "text", "submit_response": "Submit"},
        )
        quiz = quiz_for(number)
        client.post(
            f"/learn/offerings/{offering_id}/quizzes/{quiz.key}", data=quiz_form(quiz, 1, correct=False)
        )
        client.post(f"/learn/offerings/{offering_id}/quizzes/{quiz.key}", data=quiz_form(quiz, 2))


def test_learner_pages_do_not_grow_with_the_learners_work(client, demo, login, make_user):
    """Dashboard, session page and transcript run as many queries after a term of work as before."""
    login("lcsw@example.org")
    before = {url: statements_for(client, url) for url in learner_pages(demo.offering_id)}
    do_lots_of_work(client, demo.offering_id)
    for n in range(15):  # other learners in the same offering must not matter either
        make_user(Role.LEARNER, email=f"other{n}@example.org")
    after = {url: statements_for(client, url) for url in learner_pages(demo.offering_id)}
    assert after == before


def test_quiz_page_query_count_is_constant(client, demo, login):
    """The quiz page's queries do not grow with the number of attempts."""
    login("lcsw@example.org")
    quiz = quiz_for(2)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    wrong_first, wrong_second = quiz_form(quiz, 1, correct=False), quiz_form(quiz, 2, correct=False)
    before = statements_for(client, url)
    client.post(url, data=wrong_first)
    client.post(url, data=wrong_second)
    assert statements_for(client, url) == before
