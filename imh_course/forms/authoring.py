"""Forms for instructors: authoring exercises and quiz questions, and feedback on shared responses.

They check HTTP input only (types, lengths, required fields). The content rules (exactly one
correct option for a single-answer question, two options for true/false …) are the content
schema's, applied by ``operations/authoring.py`` and ``operations/quiz_authoring.py``;
``show_problems`` puts its messages back on the fields so the page can be re-rendered with them.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

from ..content.schema import ExerciseKind, QuestionKind
from ..operations.authoring import ExerciseDraft
from ..operations.quiz_authoring import OptionDraft, QuestionDraft, QuizSettings
from .messages import enter, in_range, max_length, required, required_input, whole_number

MAX_OPTIONS = 8
MARKDOWN_HINT = (
    "Markdown: **bold**, *italics*, lists (- item), [links](https://…), ## headings. "
    "HTML is shown as typed, never run."
)
EXERCISE_KINDS = [
    SelectChoice(ExerciseKind.REFLECTIVE.value, "Reflective"),
    SelectChoice(ExerciseKind.APPLIED.value, "Applied"),
]
QUESTION_KINDS = [
    SelectChoice(QuestionKind.SINGLE.value, "One correct answer"),
    SelectChoice(QuestionKind.MULTIPLE.value, "Select all that apply (one or more correct answers)"),
    SelectChoice(QuestionKind.TRUE_FALSE.value, "True or false (exactly two options)"),
]


def _add_errors(field: object, messages: list[str]) -> None:
    field.errors = [*field.errors, *messages]  # type: ignore[attr-defined]


class _ProblemsMixin:
    """Messages about the item as a whole (``""`` in an AuthoringError)."""

    item_errors: list[str]

    def show_problems(self, problems: dict[str, list[str]], aliases: dict[str, str] | None = None) -> None:
        self.item_errors = list(getattr(self, "item_errors", []))
        for path, messages in problems.items():
            name = (aliases or {}).get(path, path)
            field = getattr(self, name, None) if name and "." not in name else None
            if field is None:
                self.item_errors.extend(messages)
            else:
                _add_errors(field, messages)


class ExerciseForm(_ProblemsMixin, FlaskForm):
    base_version = HiddenField()
    title = StringField("Title", validators=[required(enter("a title")), max_length("the title", 300)])
    kind = SelectField("Kind of exercise", choices=EXERCISE_KINDS)
    estimated_minutes = IntegerField(
        "Estimated minutes (counts toward independent learning, never CE)",
        validators=[required_input(enter("the estimated minutes")), in_range("a number of minutes", 1, 600)],
        invalid_value_message=whole_number("the estimated minutes", 15),
    )
    instructions = TextAreaField(
        "Instructions",
        validators=[required(enter("the instructions")), max_length("the instructions", 20_000)],
    )
    preview = SubmitField("Preview")
    save = SubmitField("Save")

    def draft(self) -> ExerciseDraft:
        return ExerciseDraft(
            title=self.title.data or "",
            kind=self.kind.data or "",
            estimated_minutes=self.estimated_minutes.data or 0,
            instructions=self.instructions.data or "",
        )

    def show_problems(self, problems: dict[str, list[str]], aliases: dict[str, str] | None = None) -> None:
        super().show_problems(problems, {"id": "title", **(aliases or {})})


class OptionForm(Form):
    """One answer option; a row left entirely empty is ignored."""

    text = StringField("Option text", validators=[Optional(), max_length("the option text", 300)])
    correct = BooleanField("Correct")
    feedback = TextAreaField(
        "Feedback shown for this option", validators=[Optional(), max_length("the feedback", 2_000)]
    )

    @property
    def is_blank(self) -> bool:
        return not (self.text.data or "").strip() and not (self.feedback.data or "").strip()


class QuestionFieldsMixin:
    """The fields of one question; combined with quiz settings on the new-quiz page."""

    base_version = HiddenField()
    kind = SelectField("Kind of question", choices=QUESTION_KINDS)
    prompt = TextAreaField(
        "Question", validators=[required(enter("the question")), max_length("the question", 2_000)]
    )
    points = IntegerField(
        "Points",
        default=1,
        validators=[required_input(enter("the points")), in_range("points", 1, 10)],
        invalid_value_message=whole_number("the points", 1),
    )
    options = FieldList(FormField(OptionForm), min_entries=MAX_OPTIONS, max_entries=MAX_OPTIONS)

    def question_draft(self) -> tuple[QuestionDraft, list[int]]:
        """The question as typed, and for each option kept the index of its row on the form."""
        rows = [(i, entry.form) for i, entry in enumerate(self.options) if not entry.form.is_blank]
        draft = QuestionDraft(
            kind=self.kind.data or "",
            prompt=self.prompt.data or "",
            points=self.points.data or 1,
            options=[
                OptionDraft(
                    text=f.text.data or "", correct=bool(f.correct.data), feedback=f.feedback.data or ""
                )
                for _i, f in rows
            ],
        )
        return draft, [i for i, _f in rows]

    def show_question_problems(
        self, problems: dict[str, list[str]], rows: list[int], number: int | None = None
    ) -> dict[str, list[str]]:
        """Put ``options.N.field`` and question field messages on the form; returns the rest.

        The rest is about the question as a whole ("needs exactly one correct option"): it is shown
        above the form, so it names the question ("Question 2: …") as the quiz numbers it.
        """
        rest: dict[str, list[str]] = {}
        if number is not None:
            problems = {
                k: v if _on_a_field(k) else [_of_question(number, m) for m in v] for k, v in problems.items()
            }
        for path, messages in problems.items():
            parts = path.split(".")
            if parts[0] == "options" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
                sub = self.options[rows[int(parts[1])]].form
                target = getattr(sub, parts[2], None)
                if target is not None:
                    _add_errors(target, messages)
                    continue
            if parts[0] == "options" and len(parts) == 1:
                rest.setdefault("", []).extend(messages)
                continue
            if len(parts) == 1 and parts[0] in ("prompt", "kind", "points"):
                _add_errors(getattr(self, parts[0]), messages)
                continue
            rest.setdefault("", []).extend(messages)
        return rest

    def fill_question(self, draft: QuestionDraft) -> None:
        """Pre-fill from a saved question (GET)."""
        self.kind.data = draft.kind
        self.prompt.data = draft.prompt
        self.points.data = draft.points
        for entry, option in zip(self.options, draft.options, strict=False):
            entry.form.text.data = option.text
            entry.form.correct.data = option.correct
            entry.form.feedback.data = option.feedback


def _on_a_field(path: str) -> bool:
    parts = path.split(".")
    return parts[0] in ("prompt", "kind", "points") or (parts[0] == "options" and len(parts) == 3)


def _of_question(number: int, message: str) -> str:
    return f"Question {number}: {message[:1].lower()}{message[1:]}"


class QuestionForm(_ProblemsMixin, QuestionFieldsMixin, FlaskForm):
    preview = SubmitField("Preview")
    save = SubmitField("Save question")

    def show_problems(
        self, problems: dict[str, list[str]], rows: list[int] | None = None, number: int | None = None
    ) -> None:
        super().show_problems(self.show_question_problems(problems, rows or [], number))


class QuizSettingsFieldsMixin:
    title = StringField(
        "Quiz title", validators=[required(enter("the quiz title")), max_length("the quiz title", 300)]
    )
    estimated_minutes = IntegerField(
        "Estimated minutes (independent learning, never CE)",
        validators=[required_input(enter("the estimated minutes")), in_range("a number of minutes", 1, 600)],
        invalid_value_message=whole_number("the estimated minutes", 15),
    )
    pass_mark = IntegerField(
        "Pass mark (percent)",
        default=80,
        validators=[required_input(enter("the pass mark")), in_range("a pass mark", 1, 100)],
        invalid_value_message=whole_number("the pass mark", 80),
    )
    max_attempts = IntegerField(
        "Attempts allowed (leave empty for unlimited)",
        default=3,
        validators=[Optional(), in_range("a number of attempts", 1, 20)],
        invalid_value_message=whole_number("the attempts allowed", 3),
    )

    def settings(self) -> QuizSettings:
        return QuizSettings(
            title=self.title.data or "",
            estimated_minutes=self.estimated_minutes.data or 0,
            pass_mark=self.pass_mark.data or 0,
            max_attempts=self.max_attempts.data,
        )

    def fill_settings(self, settings: QuizSettings) -> None:
        self.title.data = settings.title
        self.estimated_minutes.data = settings.estimated_minutes
        self.pass_mark.data = settings.pass_mark
        self.max_attempts.data = settings.max_attempts


class QuizSettingsForm(_ProblemsMixin, QuizSettingsFieldsMixin, FlaskForm):
    base_version = HiddenField()
    save = SubmitField("Save quiz settings")


class NewQuizForm(_ProblemsMixin, QuizSettingsFieldsMixin, QuestionFieldsMixin, FlaskForm):
    """A new quiz needs its settings and a first question (a quiz file has at least one)."""

    preview = SubmitField("Preview")
    save = SubmitField("Create quiz")

    def show_problems(self, problems: dict[str, list[str]], rows: list[int] | None = None) -> None:
        # the first question is validated on its own first: "" is that question as a whole
        of_question = ("options", "prompt", "kind", "points")
        rest = self.show_question_problems(
            {k: v for k, v in problems.items() if k == "" or k.startswith(of_question)}, rows or [], 1
        )
        settings = {k: v for k, v in problems.items() if k != "" and not k.startswith(of_question)}
        for key in list(settings):
            if key.startswith("questions"):
                rest.setdefault("", []).extend(settings.pop(key))
        super().show_problems({**settings, **rest})


class ActionForm(FlaskForm):
    """Publish, unpublish, remove: a button with CSRF and the version it acts on."""

    base_version = HiddenField()
    submit = SubmitField("Go")


class FeedbackForm(FlaskForm):
    body = TextAreaField(
        "Your feedback", validators=[required(enter("your feedback")), max_length("your feedback", 20_000)]
    )
    submit = SubmitField("Send feedback")
