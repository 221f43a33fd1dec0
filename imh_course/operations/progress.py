"""Independent learning: marking readings complete and saving exercise responses.

These write only the independent-learning ledger; nothing here touches attendance or CE.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import locked
from ..extensions import db
from ..lti.grades import queue_if_linked
from ..markup import render_learner_text
from ..models.audit_chain import Actor
from ..models.curriculum import Exercise, Reading
from ..models.offerings import Offering
from ..models.progress import ExerciseResponse, ExerciseResponseRevision, ReadingCompletion, ResponseStatus
from ..models.types import utcnow
from ..xapi import producers as xapi

MAX_RESPONSE_CHARS = 20_000


class ProgressError(ValueError):
    """A clear reason a learner's save was refused."""


def mark_reading_complete(
    actor: Actor, offering: Offering, reading: Reading
) -> tuple[ReadingCompletion, bool]:
    """Record that the learner finished ``reading``; idempotent. Returns (completion, created)."""
    user_id = actor.user.id
    existing = _completion(user_id, offering.id, reading.key)
    if existing is not None:
        return existing, False
    completion = ReadingCompletion(
        user_id=user_id, offering_id=offering.id, reading_key=reading.key, reading_id=reading.id
    )
    try:
        with db.session.begin_nested():
            db.session.add(completion)
    except IntegrityError:  # a second tab or worker got there first: same outcome
        return _completion(user_id, offering.id, reading.key), False
    xapi.on_reading_completed(offering, reading, completion, actor.user)
    queue_if_linked(offering.id, user_id)
    return completion, True


def _completion(user_id: int, offering_id: int, key: str) -> ReadingCompletion | None:
    return db.session.scalar(
        select(ReadingCompletion).where(
            ReadingCompletion.user_id == user_id,
            ReadingCompletion.offering_id == offering_id,
            ReadingCompletion.reading_key == key,
        )
    )


def save_response(
    actor: Actor, offering: Offering, exercise: Exercise, body: str, *, submit: bool, share: bool
) -> ExerciseResponse:
    """Save a draft or submit; every save is kept as a revision. Submitted stays submitted."""
    if len(body) > MAX_RESPONSE_CHARS:
        raise ProgressError(f"Please keep your response under {MAX_RESPONSE_CHARS:,} characters.")
    if submit and not body.strip():
        raise ProgressError("Write your response before submitting it.")
    user_id = actor.user.id
    query = select(ExerciseResponse).where(
        ExerciseResponse.user_id == user_id,
        ExerciseResponse.offering_id == offering.id,
        ExerciseResponse.exercise_key == exercise.key,
    )
    response = db.session.scalar(locked(query))
    now = utcnow()
    if response is None:
        response = ExerciseResponse(
            user_id=user_id,
            offering_id=offering.id,
            exercise_key=exercise.key,
            exercise_id=exercise.id,
            status=ResponseStatus.DRAFT,
            revision=0,
            created_dt=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(response)
        except IntegrityError:
            response = db.session.scalar(locked(query))
    response.body = body
    response.body_html = render_learner_text(body) if body.strip() else ""
    response.exercise_id = exercise.id
    response.is_shared = share
    newly_submitted = submit and response.status is not ResponseStatus.SUBMITTED
    if submit or response.status is ResponseStatus.SUBMITTED:
        response.status = ResponseStatus.SUBMITTED
        response.submitted_dt = response.submitted_dt or now
    response.revision += 1
    response.updated_dt = now
    db.session.add(
        ExerciseResponseRevision(
            response=response,
            revision=response.revision,
            body=body,
            status=response.status,
            is_shared=share,
            exercise_id=exercise.id,
            saved_dt=now,
        )
    )
    db.session.flush()
    if newly_submitted:
        xapi.on_exercise_submitted(offering, exercise, response, actor.user)
        queue_if_linked(offering.id, user_id)  # a draft changes no completion
    return response
