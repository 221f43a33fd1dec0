"""Instructor feedback on exercise responses that learners chose to share.

Privacy rule (DOMAIN.md): a reflective response is private to the learner unless they share it;
an instructor sees a shared, submitted response only in an offering they teach; coordinators see
completion status, never the text. ``shared_responses`` and ``shared_response`` are the only ways
this module reads response text, and both filter on ``is_shared`` and ``status = submitted``.

Feedback is Markdown, rendered and sanitised on save (``render_markdown`` -> bleach allow-list);
only the sanitised HTML is stored (``ResponseFeedback.body_html``) and shown to the learner on
their exercise page through ``ExerciseResponse.feedback``. Each feedback is an audit event.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..markup import render_markdown
from ..models.accounts import User
from ..models.audit_chain import Actor, record_event
from ..models.offerings import Offering
from ..models.progress import ExerciseResponse, ResponseFeedback, ResponseStatus
from .authoring import clean_text

MAX_FEEDBACK_CHARS = 20_000


class FeedbackError(ValueError):
    """A clear reason the feedback was not saved."""


def _shared(offering: Offering):  # noqa: ANN202
    return select(ExerciseResponse).where(
        ExerciseResponse.offering_id == offering.id,
        ExerciseResponse.is_shared.is_(True),
        ExerciseResponse.status == ResponseStatus.SUBMITTED,
    )


def shared_responses(offering: Offering) -> list[tuple[ExerciseResponse, User]]:
    """(response, learner) of the submitted responses shared in ``offering``, newest first."""
    query = (
        _shared(offering)
        .add_columns(User)
        .join(User, User.id == ExerciseResponse.user_id)
        .options(selectinload(ExerciseResponse.exercise), selectinload(ExerciseResponse.feedback))
        .order_by(ExerciseResponse.updated_dt.desc(), ExerciseResponse.id.desc())
    )
    return [(response, learner) for response, learner in db.session.execute(query)]


def learner_of(response: ExerciseResponse) -> User:
    return db.session.get(User, response.user_id)


def shared_response(offering: Offering, response_id: int) -> ExerciseResponse | None:
    """One shared, submitted response of ``offering``; None for anything else (private, draft, elsewhere)."""
    return db.session.scalar(
        _shared(offering)
        .where(ExerciseResponse.id == response_id)
        .options(selectinload(ExerciseResponse.feedback).selectinload(ResponseFeedback.author))
    )


def add_feedback(actor: Actor, response: ExerciseResponse, body: str) -> ResponseFeedback:
    """Store sanitised feedback on a shared response; the learner sees it on their exercise page."""
    if not response.is_shared or response.status is not ResponseStatus.SUBMITTED:
        raise FeedbackError("This response is not shared with you.")
    body = clean_text(body)
    if not body:
        raise FeedbackError("Write your feedback first.")
    if len(body) > MAX_FEEDBACK_CHARS:
        raise FeedbackError(f"Please keep your feedback under {MAX_FEEDBACK_CHARS:,} characters.")
    html = render_markdown(body)
    if not html.strip():
        raise FeedbackError("Your feedback has no text once formatting is removed.")
    feedback = ResponseFeedback(response_id=response.id, author_id=actor.user.id, body_html=html)
    db.session.add(feedback)
    db.session.flush()
    record_event(
        actor,
        "response.feedback",
        "response_feedback",
        feedback.id,
        offering_id=response.offering_id,
        learner_id=response.user_id,
        after={"response_id": response.id, "exercise_key": response.exercise_key, "chars": len(body)},
    )
    return feedback
