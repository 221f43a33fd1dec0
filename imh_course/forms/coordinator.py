"""Forms of the coordinator's pages: offerings, meetings, enrolment, roster import, records actions."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import (
    URL,
    Optional,
    ValidationError,
)

from ..models.offerings import FUNDING_LABELS, DeliveryFormat, Funding, Term
from ..operations.offerings import zone_problem
from ..rules.licenses import (
    BOARD_LABELS,
    LICENSE_TYPES,
    Board,
    validate_license_number,
    validate_provider_number,
)
from .fields import MultiCheckboxField, strip_text
from .messages import (
    choose,
    email_address,
    enter,
    in_range,
    max_length,
    required,
    required_input,
    sentence,
    tick,
    whole_number,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FUNDING_CHOICES = [SelectChoice(f.value, FUNDING_LABELS[f]) for f in Funding]
LICENSE_CHOICES = [SelectChoice("", "No license")] + [
    SelectChoice(t, t) for t in LICENSE_TYPES if t != "None"
]
REASON_MAX = 500
DATE_VALUE = enter("the date as year-month-day, e.g. 2027-01-12")
TIME_VALUE = enter("the time as hours and minutes, e.g. 12:00")
YEARS = sentence("Enter a date between 2000 and 2100.")


def _zone(_form: FlaskForm, field: StringField) -> None:
    problem = zone_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def _provider(board: Board):  # noqa: ANN202
    def check(_form: FlaskForm, field: StringField) -> None:
        if field.data:
            problem = validate_provider_number(board, field.data)
            if problem:
                raise ValidationError(problem)

    return check


class OfferingForm(FlaskForm):
    term = SelectField("Term", choices=[SelectChoice(t.value, t.value.capitalize()) for t in Term])
    year = IntegerField(
        "Year",
        validators=[required_input(enter("the year")), in_range("a year", 2000, 2100)],
        invalid_value_message=whole_number("the year", 2027),
    )
    format = SelectField(
        "Format",
        choices=[
            SelectChoice(DeliveryFormat.IN_PERSON.value, "In person"),
            SelectChoice(DeliveryFormat.LIVE_ONLINE.value, "Live online"),
        ],
    )
    location = StringField(
        "Location (in person)", validators=[Optional(), max_length("the location", 300)], filters=[strip_text]
    )
    meeting_url = URLField(
        "Meeting link (live online)",
        validators=[
            Optional(),
            URL(require_tld=True, message=enter("the full link, starting with https://")),
            max_length("the link", 500),
        ],
        filters=[strip_text],
    )
    timezone = StringField(
        "Time zone",
        default="America/New_York",
        validators=[
            required(enter("the time zone, e.g. America/New_York")),
            max_length("the time zone", 64),
            _zone,
        ],
        filters=[strip_text],
    )
    social_work_number = StringField(
        f"{BOARD_LABELS[Board.SOCIAL_WORK]}: provider number",
        validators=[Optional(), max_length("the provider number", 20), _provider(Board.SOCIAL_WORK)],
        filters=[strip_text],
    )
    social_work_statement = TextAreaField(
        f"{BOARD_LABELS[Board.SOCIAL_WORK]}: approval statement",
        validators=[Optional(), max_length("the approval statement", 2000)],
        filters=[strip_text],
    )
    mental_health_number = StringField(
        f"{BOARD_LABELS[Board.MENTAL_HEALTH]}: provider number",
        validators=[Optional(), max_length("the provider number", 20), _provider(Board.MENTAL_HEALTH)],
        filters=[strip_text],
    )
    mental_health_statement = TextAreaField(
        f"{BOARD_LABELS[Board.MENTAL_HEALTH]}: approval statement",
        validators=[Optional(), max_length("the approval statement", 2000)],
        filters=[strip_text],
    )
    instructors = MultiCheckboxField("Instructors", coerce=int, choices=[], validate_choice=True)
    submit = SubmitField("Save offering")

    def validate(self, extra_validators=None) -> bool:  # noqa: ANN001
        ok = super().validate(extra_validators)
        for board in Board:
            number = getattr(self, f"{board.value}_number")
            statement = getattr(self, f"{board.value}_statement")
            if number.data and not statement.data:
                statement.errors = [*statement.errors, enter("the board's approval statement")]
                ok = False
            if statement.data and not number.data:
                number.errors = [*number.errors, enter("the provider number for this statement")]
                ok = False
        if self.format.data == DeliveryFormat.IN_PERSON.value and not self.location.data:
            self.location.errors = [*self.location.errors, enter("the location of an in-person offering")]
            ok = False
        if self.format.data == DeliveryFormat.LIVE_ONLINE.value and not self.meeting_url.data:
            self.meeting_url.errors = [
                *self.meeting_url.errors,
                enter("the meeting link of a live-online offering"),
            ]
            ok = False
        return ok


class ScheduleForm(FlaskForm):
    first_date = DateField(
        "First date (on or before the first meeting)",
        validators=[required_input(enter("the first date"))],
        invalid_value_message=DATE_VALUE,
    )
    weekday = SelectField(
        "Weekday",
        choices=[SelectChoice(str(i), day) for i, day in enumerate(WEEKDAYS)],
        coerce=int,
        default=1,
    )
    start_time = TimeField(
        "Start time (local)",
        validators=[required_input(enter("the start time"))],
        invalid_value_message=TIME_VALUE,
    )
    submit = SubmitField("Generate the meetings")

    def validate_first_date(self, field: DateField) -> None:
        if field.data and not date(2000, 1, 1) <= field.data <= date(2100, 12, 31):
            raise ValidationError(YEARS)


class MeetingForm(FlaskForm):
    day = DateField("Date", validators=[required_input(enter("the date"))], invalid_value_message=DATE_VALUE)
    start_time = TimeField(
        "Start time (local)",
        validators=[required_input(enter("the start time"))],
        invalid_value_message=TIME_VALUE,
    )
    end_time = TimeField(
        "End time (local)",
        validators=[required_input(enter("the end time"))],
        invalid_value_message=TIME_VALUE,
    )
    ce_eligible = BooleanField("CE-eligible face-to-face meeting")
    reason = TextAreaField(
        "Reason for the change (required once attendance is recorded)",
        validators=[max_length("the reason", REASON_MAX)],
        filters=[strip_text],
    )
    submit = SubmitField("Save meeting")

    def validate_day(self, field: DateField) -> None:
        if field.data and not date(2000, 1, 1) <= field.data <= date(2100, 12, 31):
            raise ValidationError(YEARS)


class EnrolForm(FlaskForm):
    name = StringField(
        "Full name",
        validators=[required(enter("the learner's full name")), max_length("the name", 200)],
        filters=[strip_text],
    )
    email = EmailField(
        "Email",
        validators=[
            required(enter("the learner's email address")),
            email_address(),
            max_length("the email address", 254),
        ],
        filters=[strip_text],
    )
    discipline = StringField(
        "Discipline or profession",
        validators=[Optional(), max_length("the discipline", 120)],
        filters=[strip_text],
    )
    license_type = SelectField("License type", choices=LICENSE_CHOICES, default="")
    license_number = StringField(
        "License number", validators=[Optional(), max_length("the license number", 40)], filters=[strip_text]
    )
    funding = SelectField("Funding", choices=FUNDING_CHOICES, default=Funding.FULL_FEE.value)
    submit = SubmitField("Enrol")

    def validate_license_number(self, field: StringField) -> None:
        kind = self.license_type.data
        if kind:
            problem = validate_license_number(kind, field.data or "", own=False)
            if problem:
                raise ValidationError(problem)
        elif field.data:
            raise ValidationError(choose("the license type for this license number"))


class RosterForm(FlaskForm):
    file = FileField("Roster file (CSV)", validators=[FileRequired(message=choose("a CSV file"))])
    submit = SubmitField("Check and import")


class FundingForm(FlaskForm):
    funding = SelectField("Funding", choices=FUNDING_CHOICES)
    submit = SubmitField("Change funding")


class ReasonForm(FlaskForm):
    """Withdraw / reinstate an enrolment: a reason is required."""

    reason = TextAreaField(
        "Reason",
        validators=[required(enter("a reason")), max_length("the reason", REASON_MAX)],
        filters=[strip_text],
    )
    submit = SubmitField("Confirm")


class EraseForm(FlaskForm):
    reason = TextAreaField(
        "Reason (for example: the learner's request of 2026-05-01 by email)",
        validators=[required(enter("the reason for the erasure")), max_length("the reason", 1000)],
        filters=[strip_text],
    )
    confirm = BooleanField(
        "I understand the profile is pseudonymised for good, and that attendance, certificates "
        "and the audit trail are kept.",
        validators=[required(tick("confirm"))],
    )
    submit = SubmitField("Erase the learner's profile")


class ActionForm(FlaskForm):
    """A button-only POST (CSRF only): bulk issue, new invitation link."""

    submit = SubmitField("Go")


class MatrixFilterForm(FlaskForm):
    """GET filters of the completion matrix (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    license = SelectField(
        "License type",
        choices=[SelectChoice("", "All"), SelectChoice("none", "No license")]
        + [SelectChoice(t, t) for t in LICENSE_TYPES if t != "None"],
        default="",
        validate_choice=False,
    )
    at_risk = BooleanField("At risk of not completing")
    not_issued = BooleanField("Certificate not yet issued")
    submit = SubmitField("Filter")


class AuditFilterForm(FlaskForm):
    """GET filters of the audit trail viewer (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    offering = SelectField(
        "Offering", choices=[SelectChoice("", "All offerings")], default="", validate_choice=False
    )
    learner = StringField(
        "Learner (email or id)", validators=[Optional(), max_length("the learner", 254)], filters=[strip_text]
    )
    actor = StringField(
        "Actor (email, id or “system”)",
        validators=[Optional(), max_length("the actor", 254)],
        filters=[strip_text],
    )
    action = SelectField(
        "Action", choices=[SelectChoice("", "All actions")], default="", validate_choice=False
    )
    date_from = DateField("From (date)", validators=[Optional()], invalid_value_message=DATE_VALUE)
    date_to = DateField("To (date, inclusive)", validators=[Optional()], invalid_value_message=DATE_VALUE)
    submit = SubmitField("Filter")
