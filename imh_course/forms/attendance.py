"""Forms for taking attendance and for self check-in (HTTP input only; the rules live in operations)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField, StringField, SubmitField, TimeField
from wtforms.validators import AnyOf, Optional, Regexp

from ..operations.attendance import MAX_REASON_CHARS
from ..operations.checkin import CheckInIntent
from ..rules.checkin_codes import normalise
from ..rules.credit import AttendanceStatus
from .fields import strip_text
from .messages import RELOAD, choose, enter, max_length, required, sentence

STATUS_LABELS = {
    AttendanceStatus.PRESENT: "Present",
    AttendanceStatus.LATE: "Late",
    AttendanceStatus.LEFT_EARLY: "Left early",
    AttendanceStatus.ABSENT: "Absent",
    AttendanceStatus.EXCUSED: "Excused",
}
#: The mark's options as (value, label): MarkForm's choices and the roster's plain <select>.
STATUS_CHOICES = [("", "Not marked")] + [(s.value, label) for s, label in STATUS_LABELS.items()]
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
TIME_FORMAT = TIME_FORMATS[0]  # how a saved time is shown


class MarkForm(FlaskForm):
    """One learner's mark, with a per-learner prefix (``l<user id>``).

    The roster prints its fields as plain inputs of the same names
    (``views.attendance_roster.MarkInputs``: one form object per row of a 200-learner roster cost
    most of the page); a POST is bound to this form, which checks the CSRF token and validates as
    usual.
    """

    status = SelectField(
        "Mark",
        choices=[SelectChoice(value, label) for value, label in STATUS_CHOICES],
        validators=[required(choose("a mark"))],
    )
    arrived = TimeField(
        "Arrived",
        format=TIME_FORMATS,
        validators=[Optional()],
        invalid_value_message=enter("the arrival as a time, e.g. 12:20"),
    )
    departed = TimeField(
        "Left",
        format=TIME_FORMATS,
        validators=[Optional()],
        invalid_value_message=enter("the departure as a time, e.g. 13:10"),
    )
    reason = StringField(
        "Reason for the change",
        validators=[max_length("the reason", MAX_REASON_CHARS)],
        filters=[strip_text],
    )
    submit = SubmitField("Save")


class AllPresentForm(FlaskForm):
    submit = SubmitField("Mark everyone present for the full meeting")


class CheckInToggleForm(FlaskForm):
    submit = SubmitField("Open check-in")


class CheckInCodeForm(FlaskForm):
    code = StringField(
        "Check-in code",
        validators=[
            required(enter("the code shown in the room")),
            Regexp(r"^[0-9]{6}$", message=sentence("The code is 6 digits, e.g. 042917.")),
        ],
        filters=[lambda value: normalise(value) if isinstance(value, str) else value],
    )
    step = HiddenField(validators=[Optional(), AnyOf([i.value for i in CheckInIntent], message=RELOAD)])
    submit = SubmitField("Sign in")


class ReportUploadForm(FlaskForm):
    """A video platform's participant report (Zoom CSV, Teams CSV/TSV), checked before anything changes."""

    file = FileField(
        "Participant report (Zoom or Microsoft Teams)",
        validators=[FileRequired(message=choose("the report file exported from Zoom or Teams"))],
    )
    submit = SubmitField("Upload and check")


class ReportReviewForm(FlaskForm):
    """The matching and preview steps: the file travels back in a hidden field (it is written only on
    apply, then stored by its sha256); the matches are plain ``key-N``/``match-N``/``remember-N``
    inputs, one per name, and the step is the pressed button's ``action``, read by the view."""

    report = HiddenField(validators=[required(RELOAD)])
    file_name = HiddenField(validators=[max_length("the file name", 255)])
    reason = StringField(
        "Reason for changing saved marks",
        validators=[max_length("the reason", MAX_REASON_CHARS)],
        filters=[strip_text],
    )
