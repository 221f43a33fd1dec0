"""Generated over every form class in imh_course: each validator's message comes from one source.

Bare ``DataRequired()`` says "This field is required." without naming the field, and hand-written
messages drifted ("Please fill this in.", "Give a reason."). Every required, length, range and
format validator of every form (and every field's "not a valid value" message) must carry a
``FormMessage`` from ``imh_course.rules.messages``: one sentence, capital first, full stop last.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import SimpleNamespace

import pytest
from flask import Flask
from wtforms import Form
from wtforms.validators import DataRequired, InputRequired

import imh_course
from imh_course.forms.learner import build_quiz_form
from imh_course.rules.messages import FormMessage


def _form_classes() -> list[type[Form]]:
    found: dict[str, type[Form]] = {}
    for module in pkgutil.walk_packages(imh_course.__path__, "imh_course."):
        for obj in vars(importlib.import_module(module.name)).values():
            if inspect.isclass(obj) and issubclass(obj, Form) and obj.__module__.startswith("imh_course"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[name] for name in sorted(found)]


FORM_CLASSES = _form_classes()
PARSED_FIELDS = ("IntegerField", "DateField", "TimeField", "DateTimeField", "DecimalField", "FloatField")


@pytest.fixture
def request_context():  # noqa: ANN201
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    with app.test_request_context(method="POST"):
        yield


def _fields(form: Form):  # noqa: ANN202
    """Every field, subforms and list entries included."""
    for field in form:
        if hasattr(field, "form") and isinstance(field.form, Form):  # FormField
            yield from _fields(field.form)
        elif hasattr(field, "entries"):  # FieldList
            for entry in field.entries:
                yield from _fields(entry.form) if hasattr(entry, "form") else [entry]
        else:
            yield field


def _messages(form: Form) -> list[tuple[str, str, object]]:
    """(field, validator, message) for every message a validator or field parser can show."""
    found = []
    for field in _fields(form):
        for validator in field.validators:
            if hasattr(validator, "message"):
                found.append((field.name, type(validator).__name__, validator.message))
        if field.type in PARSED_FIELDS:  # their default is "Not a valid integer value." and the like
            found.append((field.name, "invalid value", field.invalid_value_message))
    return found


def _required(form: Form) -> list[tuple[str, object]]:
    return [
        (field.name, v.message)
        for field in _fields(form)
        for v in field.validators
        if isinstance(v, (DataRequired, InputRequired))
    ]


def test_the_walk_finds_the_forms():
    names = {cls.__name__ for cls in FORM_CLASSES}
    assert {"LoginForm", "EnrolForm", "MarkForm", "QuestionForm", "EvaluationForm", "RosterForm"} <= names


@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_validator_message_comes_from_the_one_source(request_context, form_class):  # noqa: ARG001
    """Required, length, range, format: each names the field in the house style."""
    form = form_class()
    for name, validator, message in _messages(form):
        assert isinstance(message, FormMessage), f"{form_class.__name__}.{name}: {validator} says {message!r}"
        assert message[0].isupper() and message.endswith((".", "?", "!")), message
    for name, message in _required(form):
        assert isinstance(message, FormMessage), f"{form_class.__name__}.{name} is required without a message"
        assert message.startswith(("Enter ", "Choose ", "Tick the box to ", "Reload ")), message


def test_the_quiz_form_built_per_question_says_choose_an_answer(request_context):  # noqa: ARG001
    options = [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]
    questions = [
        SimpleNamespace(key="q1", kind="single", options=options),
        SimpleNamespace(key="q2", kind="multiple", options=options),
        SimpleNamespace(key="q3", kind="true_false", options=options),
    ]
    required = dict(_required(build_quiz_form(questions)))
    assert required == {
        "q_q1": "Choose an answer to this question.",
        "q_q2": "Choose at least one answer to this question.",
        "q_q3": "Choose an answer to this question.",
    }
    assert all(isinstance(m, FormMessage) for m in required.values())


def test_the_required_fields_name_themselves(request_context):  # noqa: ARG001
    """A few fields by name: the sentence says what to do with that field."""
    from imh_course.forms.attendance import MarkForm
    from imh_course.forms.auth import LoginForm
    from imh_course.forms.certificates import EvaluationForm
    from imh_course.forms.coordinator import EraseForm, ReasonForm

    assert dict(_required(LoginForm())) == {
        "email": "Enter your email address.",
        "password": "Enter your password.",
    }
    assert dict(_required(MarkForm())) == {"status": "Choose a mark."}
    assert dict(_required(ReasonForm()))["reason"] == "Enter a reason."
    assert dict(_required(EraseForm()))["confirm"] == "Tick the box to confirm."
    assert dict(_required(EvaluationForm()))["relevance"] == "Choose a rating."
