"""Numbers in forms and query strings past the column range are refused, never a 500 (issue 14 item 3).

Generated from the module's form classes: every numeric field (IntegerField and its kin), every
field that coerces to ``int``, every field whose choices are numbers and every hidden field (ids
and versions travel in those). Each IntegerField must carry a NumberRange inside PostgreSQL
INTEGER; each form class with a number in it must be posted by a case in ``CASES`` (a new form
fails ``test_every_form_with_a_number_is_posted_by_a_case`` until it gets one). A case signs in
as the person who uses the form, reads the real page (its values and a valid CSRF token), then
posts it with one number field at a time replaced by a hostile value: the answer is never a 500
and the database is byte-for-byte the same. The unchanged form, posted last, does write, so the
number was the only thing wrong with the refused posts.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask, g, url_for
from sqlalchemy import select
from wtforms import Form as PlainForm
from wtforms.fields import DecimalField, FloatField, HiddenField, IntegerField, RadioField, SelectFieldBase
from wtforms.fields.core import UnboundField
from wtforms.validators import NumberRange

from imh_course.converters import DB_INT_MAX
from imh_course.extensions import db
from imh_course.models.offerings import Offering
from imh_course.operations.accounts import find_user
from tests.access_world import EMAILS, EXPECTED
from tests.integration.authoring_helpers import current_quiz_of, question_form
from tests.integration.certificate_helpers import GOOD_RATINGS, attend, ce_minutes, finish_independent_work
from tests.integration.learner_helpers import answers, quiz_for
from tests.integration.test_access_matrix import world  # noqa: F401
from tests.integration.test_csrf_everywhere import database_digest, sign_in

DB_INT_MIN = -(2**31)
#: Refused: past INTEGER, BIGINT and SQLite's 64 bits, negative, not an integer, past Python's
#: int-from-text limit, and digits ``str.isdigit`` accepts but ``int`` does not.
HOSTILE = (
    str(2**31),
    str(2**63),
    str(10**20),
    str(-(10**20)),
    "-1",
    "1e309",
    "9" * 5000,
    "²",
)
#: Harmless spellings of 12: taken as 12 or refused, never a 500.
LENIENT = (" 12 ", "١٢")
#: Hidden fields that carry no number, and why.
NOT_NUMBERS = {
    "next": "the path to return to after sign-in (checked as a local URL)",
    "step": "the check-in intent, one of a fixed set of words (AnyOf)",
    "request_token": "the LTI deep-linking ticket, a signed string",
    "report": "a participant report's bytes, base64 (ReportReviewForm)",
    "file_name": "the uploaded participant report's file name",
}
#: Forms only an LMS can open (a signed launch comes first), with the test that posts hostile
#: numbers to them instead.
COVERED_ELSEWHERE = {
    "forms.lti.DeepLinkForm": "test_lti_deep_linking.py::test_hostile_numbers_in_the_picker_change_nothing",
}
NUMERIC = (IntegerField, DecimalField, FloatField)


def _form_classes() -> Iterator[type]:
    import imh_course

    for info in pkgutil.walk_packages(imh_course.__path__, "imh_course."):
        if "forms" not in info.name:
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, PlainForm)
                and value.__module__ == module.__name__
            ):
                yield value


def _unbound_fields(form_class: type) -> dict[str, object]:
    return {
        name: getattr(form_class, name)
        for name in dir(form_class)
        if not name.startswith("_") and isinstance(getattr(form_class, name, None), UnboundField)
    }


def _carries_a_number(unbound) -> bool:  # noqa: ANN001
    cls = unbound.field_class
    if issubclass(cls, NUMERIC) or unbound.kwargs.get("coerce") is int:
        return True
    if issubclass(cls, HiddenField):
        return True
    choices = unbound.kwargs.get("choices")
    if issubclass(cls, SelectFieldBase | RadioField) and choices:
        values = [c[0] if isinstance(c, tuple) else c.value for c in choices]
        return all(str(v).isdigit() for v in values)
    return False


def number_fields() -> dict[str, list[str]]:
    """``module.FormClass`` -> the names of its fields that carry a number."""
    found: dict[str, list[str]] = {}
    for form_class in _form_classes():
        names = [
            name
            for name, unbound in _unbound_fields(form_class).items()
            if _carries_a_number(unbound) and name not in NOT_NUMBERS
        ]
        if names:
            key = f"{form_class.__module__.removeprefix('imh_course.')}.{form_class.__name__}"
            found[key] = sorted(names)
    return found


# --- the cases: which route posts each form, as whom, from which page ------------------------------


@dataclass
class Case:
    endpoint: str  # the route the form posts to
    persona: str  # who may use it (tests.access_world.EMAILS)
    page: str | None = None  # the endpoint whose page shows the form (default: the route itself)
    values: dict[str, object] = field(default_factory=dict)  # URL values beyond the world's
    typed: Callable[[Flask, object], dict[str, object]] = lambda _app, _world: {}  # what a person types
    #: Makes the world fit the form; may return URL values (e.g. an offering without meetings).
    prepare: Callable[[Flask, object], dict[str, object] | None] = lambda _app, _world: None


def _retire_quiz_5(_app: Flask, _world: object) -> None:
    current_quiz_of(5).is_current = False  # a session without a quiz (as test_authoring does)
    db.session.commit()


def _other_learner_finishes(_app: Flask, built: object) -> None:
    attend(built.values["offering_id"], find_user(EMAILS["other_learner"]).id, 10)
    finish_independent_work(built.values["offering_id"], find_user(EMAILS["other_learner"]).id)


def _offering_without_meetings(_app: Flask, _world: object) -> dict[str, object]:
    return {"offering_id": db.session.scalar(select(Offering.id).where(~Offering.meetings.any()))}


def _quiz_answers(_app: Flask, _world: object) -> dict[str, object]:
    return {**answers(quiz_for(1)), "submit": "Submit answers"}


def _attest(app: Flask, built: object) -> dict[str, object]:
    minutes = ce_minutes(app, built.values["offering_id"], find_user(EMAILS["other_learner"]).id)
    return {"confirm": "y", "ce_minutes": str(minutes)}


SAVE = {"save": "Save"}
# fmt: off
CASES: dict[str, list[Case]] = {
    "forms.authoring.ExerciseForm": [
        Case("imh.authoring_exercise_edit", "instructor", typed=lambda *_: {"title": "Changed", **SAVE}),
    ],
    "forms.authoring.QuestionForm": [
        Case("imh.authoring_question_edit", "instructor",
             typed=lambda *_: {"prompt": "Changed?", "save": "Save question"}),
    ],
    "forms.authoring.QuizSettingsForm": [
        Case("imh.authoring_quiz_settings", "instructor",
             typed=lambda *_: {"title": "Changed", "save": "Save quiz settings"}),
    ],
    "forms.authoring.NewQuizForm": [
        Case("imh.authoring_quiz_new", "instructor", values={"number": 5}, prepare=_retire_quiz_5,
             typed=lambda *_: question_form() | {"estimated_minutes": "5", "save": "Create quiz"}),
    ],
    "forms.authoring.ActionForm": [
        Case("imh.authoring_exercise_publish", "instructor", page="imh.authoring_session",
             values={"action": "unpublish"}),
        Case("imh.authoring_quiz_publish", "instructor", page="imh.authoring_session",
             values={"action": "unpublish"}),
        Case("imh.authoring_question_remove", "instructor", page="imh.authoring_session"),
    ],
    "forms.coordinator.OfferingForm": [
        Case("imh.offering_edit", "coordinator",
             typed=lambda *_: {"location": "Room 9", "submit": "Save offering"}),
    ],
    "forms.coordinator.ScheduleForm": [
        Case("imh.meetings_schedule", "coordinator", prepare=_offering_without_meetings,
             typed=lambda *_: {"first_date": "2031-01-06", "start_time": "12:00",
                               "submit": "Generate the meetings"}),
    ],
    "forms.learner.QuizFormBase": [Case("imh.quiz", "other_learner", typed=_quiz_answers)],
    "forms.lti.ResourceLinkForm": [
        Case("imh.lti_resource_link", "admin", typed=lambda *_: {"submit": "Connect"}),
    ],
    "forms.certificates.EvaluationForm": [
        Case("imh.evaluation", "other_learner", prepare=_other_learner_finishes,
             typed=lambda *_: GOOD_RATINGS),
    ],
    "forms.certificates.AttestationForm": [
        Case("imh.attest", "other_learner", page="imh.learner_certificates", prepare=_other_learner_finishes,
             typed=_attest),
    ],
}
# fmt: on


class _Forms(HTMLParser):
    """The page's forms as (action path, {name: value}), what a browser would send (no buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, object]]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((urlsplit(a.get("action", "")).path, {}))
            return
        if not self.forms or "name" not in a:
            if (
                tag == "option"
                and self._select
                and ("selected" in a or self._select not in self.forms[-1][1])
            ):
                self.forms[-1][1][self._select] = a.get("value", "")
            return
        data = self.forms[-1][1]
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    if kind == "checkbox" and name in data:
                        data[name] = [
                            *([data[name]] if isinstance(data[name], str) else data[name]),
                            a["value"],
                        ]
                    else:
                        data[name] = a.get("value", "y")
                return
            data[name] = a.get("value", "")
        elif tag == "select":
            self._select = name
        elif tag == "textarea":
            self._textarea = name
            data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1][1][self._textarea] += data


def _url(app: Flask, endpoint: str, world, values: dict[str, object]) -> str:  # noqa: ANN001, F811
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    given = {**world.values, **values}
    args = {}
    for name in rule.arguments:
        if name == "key":
            kind = "quiz_key" if "/quizzes/" in rule.rule else "exercise_key"
            args[name] = given["reading_key" if "/readings/" in rule.rule else kind]
        else:
            args[name] = given[name]
    with app.test_request_context():
        return url_for(endpoint, **args)


def _page_form(client, page_url: str, action: str) -> dict[str, object]:  # noqa: ANN001
    g.pop("csrf_token", None)  # the test's app context outlives requests; Flask-WTF caches in g
    response = client.get(page_url)
    assert response.status_code == 200, (page_url, response.status_code)
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    matches = [data for path, data in parser.forms if path == action or (not path and page_url == action)]
    assert matches, f"{page_url} has no form posting to {action}"
    return dict(matches[0])


def _errors(response) -> list[str]:  # noqa: ANN001
    """The form's messages, for a failure report."""
    import re

    return re.findall(
        r'class="(?:error|field-error|flash flash-error)[^"]*"[^>]*>([^<]+)', response.get_data(as_text=True)
    )


def test_the_walk_finds_the_number_fields() -> None:
    found = number_fields()
    assert "estimated_minutes" in found["forms.authoring.ExerciseForm"]
    assert {"attempt_no", "quiz_version"} <= set(found["forms.learner.QuizFormBase"])
    assert {"year", "instructors"} <= set(found["forms.coordinator.OfferingForm"])
    assert "objectives_met" in found["forms.certificates.EvaluationForm"]


def test_every_integer_field_has_a_range_inside_the_column() -> None:
    """Both bounds, within PostgreSQL INTEGER: a huge number is a message on the form, not a 500."""
    problems = []
    for form_class in _form_classes():
        for name, unbound in _unbound_fields(form_class).items():
            if not issubclass(unbound.field_class, NUMERIC):
                continue
            ranges = [v for v in unbound.kwargs.get("validators", ()) if isinstance(v, NumberRange)]
            if not any(
                r.min is not None and r.max is not None and DB_INT_MIN <= r.min <= r.max <= DB_INT_MAX
                for r in ranges
            ):
                problems.append(f"{form_class.__name__}.{name}")
    assert problems == []


def test_every_form_with_a_number_is_posted_by_a_case() -> None:
    assert sorted(number_fields()) == sorted([*CASES, *COVERED_ELSEWHERE])


CASE_IDS = [(form, i) for form, cases in CASES.items() for i in range(len(cases))]


@pytest.mark.parametrize(("form_name", "index"), CASE_IDS, ids=[f"{f}-{i}" for f, i in CASE_IDS])
def test_hostile_numbers_in_every_form_change_nothing(app: Flask, world, form_name, index) -> None:  # noqa: F811
    """Each number field in turn, each hostile value: never a 500, nothing written; the form itself writes."""
    case = CASES[form_name][index]
    values = {**case.values, **(case.prepare(app, world) or {})}
    app.config["WTF_CSRF_ENABLED"] = True  # a real browser's token, so only the number is wrong
    client = app.test_client()
    sign_in(client, EMAILS[case.persona])
    action = _url(app, case.endpoint, world, values)
    page = _url(app, case.page, world, values) if case.page else action
    baseline = {**_page_form(client, page, action), **case.typed(app, world)}
    assert baseline.get("csrf_token"), "the page's form has no CSRF token"

    printed = [name for name in number_fields()[form_name] if name in baseline]
    failures = []
    for name in printed:
        for value in HOSTILE:
            before = database_digest()
            response = client.post(action, data={**baseline, name: value})
            if response.status_code >= 500:
                failures.append(f"{name}={value[:24]!r}: {response.status_code}")
            elif database_digest() != before:
                failures.append(f"{name}={value[:24]!r}: the database changed ({response.status_code})")
    assert failures == []

    before = database_digest()
    response = client.post(action, data=baseline)
    assert response.status_code in (200, 302), (response.status_code, baseline, _errors(response))
    assert database_digest() != before, (
        f"{form_name}: the unchanged form wrote nothing, so the test proves nothing"
    )

    # Lenient spellings, and fields this page does not print (the publish buttons' base_version,
    # which the view ignores): never a 500 is enough.
    for name in number_fields()[form_name]:
        for value in LENIENT if name in printed else HOSTILE + LENIENT:
            response = client.post(action, data={**baseline, name: value})
            assert response.status_code < 500, (name, value, response.status_code)


def _get_filter_names() -> set[str]:
    """Fields of the GET filter forms (no CSRF) that take numbers or ids, plus ``page``."""
    names = {"page"}
    for form_class in _form_classes():
        meta = getattr(form_class, "Meta", None)
        if meta is not None and getattr(meta, "csrf", True) is False:
            names |= set(_unbound_fields(form_class))
    return names


@pytest.mark.parametrize("persona", ["coordinator", "learner", "instructor"])
def test_hostile_numbers_in_query_strings_are_never_a_500(app: Flask, world, persona) -> None:  # noqa: F811
    """``?page=10**30``, ``?offering=2147483648``, ``?learner=²`` … on every page a person can open."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    sign_in(client, EMAILS[persona])
    names = sorted(_get_filter_names())
    assert {"page", "offering", "learner", "actor"} <= set(names)
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in EXPECTED or "GET" not in rule.methods or rule.endpoint == "imh.logout":
            continue
        path = _url(app, rule.endpoint, world, {})
        one_at_a_time = rule.endpoint in ("imh.audit_trail", "imh.completion_matrix")
        queries = (
            [{n: v} for n in names for v in HOSTILE]
            if one_at_a_time
            else [dict.fromkeys(names, v) for v in HOSTILE]
        )
        for query in queries:
            with client.get(path, query_string=query) as response:  # downloads stream: close them
                status = response.status_code
            if status >= 500:
                failures.append(f"{path}?{query}: {status}"[:200])
    assert failures == []
