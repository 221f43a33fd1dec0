"""A learner's work: marking a reading read, an exercise response, a quiz attempt."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SubmitField,
    TextAreaField,
)

from .fields import MultiCheckboxField
from .messages import (
    choose,
    max_length,
    required,
    required_input,
)


class MarkCompleteForm(FlaskForm):
    submit = SubmitField("Mark as read")


class ExerciseResponseForm(FlaskForm):
    body = TextAreaField(
        "Your response",
        validators=[max_length("your response", 20_000)],
    )
    share = BooleanField("Share this response with my instructor")
    save_draft = SubmitField("Save draft")
    submit_response = SubmitField("Submit")


class QuizFormBase(FlaskForm):
    attempt_no = HiddenField()
    quiz_version = HiddenField()
    submit = SubmitField("Submit answers")


def build_quiz_form(questions: list, *, formdata: object = _Auto) -> QuizFormBase:
    """A form for one quiz version: one radio group or checkbox group per question.

    Only option ids and texts reach the browser; whether an option is correct never does.
    """

    class QuizForm(QuizFormBase):
        pass

    for question in questions:
        choices = [SelectChoice(o["id"], o["text"]) for o in question.options]
        if question.kind == "multiple":
            message = choose("at least one answer to this question")
            field = MultiCheckboxField(choices=choices, validators=[required(message)])
        else:
            field = RadioField(
                choices=choices, validators=[required_input(choose("an answer to this question"))]
            )
        setattr(QuizForm, f"q_{question.key}", field)
    return QuizForm() if formdata is _Auto else QuizForm(formdata=formdata)
