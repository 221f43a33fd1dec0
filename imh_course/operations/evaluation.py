"""The end-of-course evaluation (anonymous content, named receipt) and the attendance attestation.

Submitting the evaluation writes two rows that share nothing but the offering: a receipt (who
submitted, for eligibility) and the answers (what was said, with the day only). The audit event
names the learner and carries none of the content, so no table links a person to their words.
Summaries are shown only from ``MIN_RESPONSES`` answers on, with comments in alphabetical order
(never submission order), so a coordinator cannot attribute a rating or comment to a learner.

The attestation records the exact statement and the CE minutes the learner was shown. If the
attendance changes afterwards, the attestation no longer matches the CE minutes and must be
renewed before a certificate can be issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import locked
from ..extensions import db
from ..models.audit_chain import Actor, record_event
from ..models.certificates import Attestation, EvaluationAnswer, EvaluationReceipt
from ..models.offerings import Offering
from ..models.types import utcnow
from ..records.ledgers import LearnerLedger
from ..rules.ce_standing import CLOCK
from ..rules.credit import format_hours, minutes_to_hours

NOTHING_TO_ATTEST = "No attendance has been credited to you yet, so there is nothing to attest."

#: (key stored in EvaluationAnswer.ratings, statement rated from 1 to 5)
RATING_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("objectives_met", "The course objectives were met."),
    ("instructors", "The instructors were knowledgeable and effective."),
    ("relevance", "The course is relevant to my work with infants, young children and families."),
)
RATING_SCALE: tuple[tuple[int, str], ...] = (
    (5, "Strongly agree"),
    (4, "Agree"),
    (3, "Neither agree nor disagree"),
    (2, "Disagree"),
    (1, "Strongly disagree"),
)
MAX_COMMENT_CHARS = 5_000
#: Fewer answers than this are not summarised: with one or two, a coordinator could tell who said what.
MIN_RESPONSES = 3


class EvaluationError(ValueError):
    """A clear reason an evaluation or attestation was refused."""


# --- evaluation ---------------------------------------------------------------------------------
def evaluation_submitted(offering_id: int, user_id: int) -> bool:
    return (
        db.session.scalar(
            select(EvaluationReceipt.id).where(
                EvaluationReceipt.offering_id == offering_id, EvaluationReceipt.user_id == user_id
            )
        )
        is not None
    )


def _clean_ratings(ratings: Mapping[str, object]) -> dict[str, int]:
    expected = {key for key, _label in RATING_QUESTIONS}
    if set(ratings) != expected:
        raise EvaluationError("Please answer every question of the evaluation.")
    clean: dict[str, int] = {}
    for key, value in ratings.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise EvaluationError("Ratings go from 1 (strongly disagree) to 5 (strongly agree).")
        clean[key] = value
    return clean


def submit_evaluation(
    actor: Actor, offering: Offering, ratings: Mapping[str, object], comments: str | None
) -> bool:
    """Store the learner's evaluation once; returns False if it was already submitted.

    The receipt goes in first, in a savepoint: a second tab or worker that loses the race on the
    (offering, learner) unique constraint stores no second set of answers.
    """
    clean = _clean_ratings(ratings)
    text = (comments or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise EvaluationError(f"Please keep your comments under {MAX_COMMENT_CHARS:,} characters.")
    user_id = actor.user.id
    if evaluation_submitted(offering.id, user_id):
        return False
    receipt = EvaluationReceipt(offering_id=offering.id, user_id=user_id)
    try:
        with db.session.begin_nested():
            db.session.add(receipt)
    except IntegrityError:
        return False
    db.session.add(
        EvaluationAnswer(
            offering_id=offering.id, ratings=clean, comments=text or None, submitted_on=utcnow().date()
        )
    )
    db.session.flush()
    # Who submitted, never what they said.
    record_event(
        actor,
        "evaluation.submit",
        "evaluation_receipt",
        receipt.id,
        offering_id=offering.id,
        learner_id=user_id,
    )
    return True


@dataclass(frozen=True)
class RatingSummary:
    key: str
    label: str
    average: str | None  # one decimal, e.g. "4.3"
    counts: tuple[tuple[int, int], ...]  # (rating, how many), 5 down to 1


@dataclass(frozen=True)
class EvaluationSummary:
    responses: int
    shown: bool  # False below MIN_RESPONSES: nothing but the count is revealed
    ratings: tuple[RatingSummary, ...]
    comments: tuple[str, ...]
    minimum: int = MIN_RESPONSES


def evaluation_summary(offering: Offering) -> EvaluationSummary:
    """Counts, averages per rating and the comments (alphabetical, unattributed) of one offering."""
    answers = db.session.scalars(
        select(EvaluationAnswer).where(EvaluationAnswer.offering_id == offering.id)
    ).all()
    if len(answers) < MIN_RESPONSES:
        return EvaluationSummary(responses=len(answers), shown=False, ratings=(), comments=())
    summaries = []
    for key, label in RATING_QUESTIONS:
        values = [a.ratings[key] for a in answers if isinstance(a.ratings.get(key), int)]
        average = None
        if values:
            mean = Decimal(sum(values)) / Decimal(len(values))
            average = str(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        counts = tuple((score, values.count(score)) for score, _name in RATING_SCALE)
        summaries.append(RatingSummary(key=key, label=label, average=average, counts=counts))
    comments = tuple(sorted((a.comments for a in answers if a.comments), key=lambda c: (c.casefold(), c)))
    return EvaluationSummary(responses=len(answers), shown=True, ratings=tuple(summaries), comments=comments)


# --- attestation --------------------------------------------------------------------------------
def attestation_statement(offering: Offering, ledger: LearnerLedger, *, ce: bool) -> str:
    """The exact words the learner agrees to, naming the credited minutes they were shown.

    ``ce``: the learner's licence is covered by an approval (CE certificate); otherwise the
    attendance is stated in face-to-face clock hours (what the certificate of completion prints,
    ``rules.ce_standing.face_to_face``), explicitly not CE credit.
    """
    sessions = (
        f"{ledger.meetings_credited} face-to-face session{'' if ledger.meetings_credited == 1 else 's'}"
    )
    if ce:
        hours = format_hours(ledger.ce_hours)
        summary = f"{hours} CE contact hours ({ledger.ce_minutes} credited minutes) from {sessions}"
    else:
        clock = format_hours(minutes_to_hours(ledger.attended_clock_minutes, CLOCK))
        summary = (
            f"{sessions} attended, {clock} face-to-face clock hours "
            f"({ledger.attended_clock_minutes} minutes attended), not CE credit"
        )
    return (
        f"I attest that the attendance recorded for me in {offering.course.title} ({offering.label}) "
        f"is accurate: {summary}."
    )


def attestation_is_current(attestation: Attestation | None, ledger: LearnerLedger) -> bool:
    """An attestation counts only while the credited minutes are those the learner attested."""
    return attestation is not None and attestation.ce_minutes_shown == ledger.ce_minutes


def current_attestation(offering_id: int, user_id: int) -> Attestation | None:
    return db.session.scalar(
        select(Attestation).where(Attestation.offering_id == offering_id, Attestation.user_id == user_id)
    )


def attest_attendance(
    actor: Actor,
    offering: Offering,
    ledger: LearnerLedger,
    ce_minutes_shown: int,
    *,
    ce: bool,
    allow_zero: bool = False,
) -> Attestation:
    """Record the learner's attestation of the CE minutes they were shown (``ledger`` is theirs, now).

    Refused if the attendance changed while the page was open, and when nothing has been credited
    (attesting "0.00 CE contact hours" certifies nothing; ``allow_zero`` only for a certificate of
    completion under a policy that needs no meetings). Attesting again after a change renews the
    one attestation row (the audit trail keeps the earlier statement).
    """
    if ce_minutes_shown != ledger.ce_minutes:
        raise EvaluationError(
            "Your recorded attendance changed while the page was open. Please review it and attest again."
        )
    if ledger.ce_minutes == 0 and (ce or not allow_zero):
        raise EvaluationError(NOTHING_TO_ATTEST)
    user_id = actor.user.id
    statement = attestation_statement(offering, ledger, ce=ce)
    query = select(Attestation).where(Attestation.offering_id == offering.id, Attestation.user_id == user_id)
    existing = db.session.scalar(locked(query))
    if existing is None:
        attestation = Attestation(
            offering_id=offering.id, user_id=user_id, statement=statement, ce_minutes_shown=ce_minutes_shown
        )
        try:
            with db.session.begin_nested():
                db.session.add(attestation)
        except IntegrityError:  # a second tab got there first
            existing = db.session.scalar(locked(query))
        else:
            record_event(
                actor,
                "attestation.create",
                "attestation",
                attestation.id,
                offering_id=offering.id,
                learner_id=user_id,
                after={"ce_minutes_shown": ce_minutes_shown, "statement": statement},
            )
            return attestation
    if existing.ce_minutes_shown == ce_minutes_shown and existing.statement == statement:
        return existing
    before = {"ce_minutes_shown": existing.ce_minutes_shown, "statement": existing.statement}
    existing.statement = statement
    existing.ce_minutes_shown = ce_minutes_shown
    existing.attested_dt = utcnow()
    db.session.flush()
    record_event(
        actor,
        "attestation.renew",
        "attestation",
        existing.id,
        offering_id=offering.id,
        learner_id=user_id,
        before=before,
        after={"ce_minutes_shown": ce_minutes_shown, "statement": statement},
    )
    return existing
