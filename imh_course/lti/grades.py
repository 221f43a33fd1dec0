"""Grade passback (Assignment and Grade Services) through a durable queue, like the email outbox.

``queue_learner`` computes a learner's gradebook values ("Session N complete" 1/0 from readings,
exercises and quizzes; the course as sessions complete) for every LMS link of the offering that
offered the service, and queues a row whose value changed (``imh_lti_score``: one row per link,
learner and column, holding the latest value). ``send_due`` claims due rows in a short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), posts them outside any transaction, and
records sent or a retry with back-off — only if the row still holds the posted value, so a change
made meanwhile is posted next. CE hours are never posted: the comment says where the CE
certificate is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from flask import current_app
from sqlalchemy import and_, or_, select

from ..database import begin_write, locked
from ..extensions import db
from ..mail.notify import external_url
from ..models.lti import LtiLineItem, LtiPlatform, LtiResourceLink, LtiScore, LtiUserLink, ScoreStatus
from ..models.offerings import Enrolment, Offering
from ..models.types import utcnow
from ..records.ledgers import credit_policy, learner_ledger
from ..rules.lti import AGS_LINEITEM_SCOPE, AGS_SCORE_SCOPE, COURSE_ITEM, completion_scores
from ..rules.outbox import CLAIM_LEASE, after_failure
from .services import ServiceError, access_token, create_line_item, post_score

BATCH = 20


def _links(offering_id: int) -> list[LtiResourceLink]:
    return list(
        db.session.scalars(
            select(LtiResourceLink).where(
                LtiResourceLink.offering_id == offering_id, LtiResourceLink.lineitems_url.is_not(None)
            )
        )
    )


def queue_learner(offering_id: int, user_id: int) -> int:
    """Queue the learner's changed values for every graded LMS link of the offering (flushes). Rows queued."""
    links = [
        link
        for link in _links(offering_id)
        if db.session.scalar(
            select(LtiUserLink.id).where(
                LtiUserLink.user_id == user_id, LtiUserLink.issuer == link.platform.issuer
            )
        )
    ]
    if not links:
        return 0
    offering = db.session.get(Offering, offering_id)
    ledger = learner_ledger(offering, user_id, credit_policy(current_app.config))
    scores = completion_scores((row.session.number, row.independent_complete) for row in ledger.sessions)
    queued = 0
    for link in links:
        existing = {
            row.item_key: row
            for row in db.session.scalars(
                locked(
                    select(LtiScore).where(LtiScore.resource_link_id == link.id, LtiScore.user_id == user_id)
                )
            )
        }
        for key, (given, maximum) in scores.items():
            row = existing.get(key)
            if row is None:
                row = LtiScore(resource_link_id=link.id, user_id=user_id, item_key=key, attempts=0)
                db.session.add(row)
            elif (row.score_given, row.score_maximum) == (
                given,
                maximum,
            ) and row.status is not ScoreStatus.FAILED:
                continue
            row.score_given, row.score_maximum = given, maximum
            row.status, row.attempts, row.next_attempt_dt = ScoreStatus.QUEUED, 0, utcnow()
            row.last_error, row.updated_dt = None, utcnow()
            queued += 1
    db.session.flush()
    return queued


def queue_if_linked(offering_id: int, user_id: int) -> int:
    """Queue the learner's changed values now, in the caller's transaction (its rollback queues nothing).

    Called by the operations that change independent work (a reading marked read, an exercise
    submitted, a quiz attempt graded). One query when the learner has no LMS identity on a graded
    link of the offering; the learner's ledger is computed only when they have.
    """
    linked = db.session.scalar(
        select(LtiResourceLink.id)
        .join(LtiPlatform, LtiPlatform.id == LtiResourceLink.platform_id)
        .join(LtiUserLink, and_(LtiUserLink.issuer == LtiPlatform.issuer, LtiUserLink.user_id == user_id))
        .where(LtiResourceLink.offering_id == offering_id, LtiResourceLink.lineitems_url.is_not(None))
        .limit(1)
    )
    return 0 if linked is None else queue_learner(offering_id, user_id)


def scan() -> int:
    """Queue changes for every LMS learner of every graded link (the worker runs this periodically)."""
    begin_write()
    pairs = db.session.execute(
        select(LtiResourceLink.offering_id, Enrolment.user_id)
        .join(Enrolment, Enrolment.offering_id == LtiResourceLink.offering_id)
        .join(LtiPlatform, LtiPlatform.id == LtiResourceLink.platform_id)
        .join(
            LtiUserLink,
            and_(LtiUserLink.user_id == Enrolment.user_id, LtiUserLink.issuer == LtiPlatform.issuer),
        )
        .where(LtiResourceLink.lineitems_url.is_not(None))
        .distinct()
    ).all()
    return sum(queue_learner(offering_id, user_id) for offering_id, user_id in pairs)


@dataclass(frozen=True)
class Claimed:
    id: int
    link_id: int
    item_key: str
    given: int
    maximum: int


def _claim(worker: str, limit: int) -> list[Claimed]:
    begin_write()
    now = utcnow()
    due = or_(
        and_(LtiScore.status == ScoreStatus.QUEUED, LtiScore.next_attempt_dt <= now),
        and_(LtiScore.status == ScoreStatus.SENDING, LtiScore.claimed_dt < now - CLAIM_LEASE),
    )
    rows = list(
        db.session.scalars(
            locked(select(LtiScore).where(due).order_by(LtiScore.id).limit(limit), skip_locked=True)
        )
    )
    for row in rows:
        row.status, row.claimed_by, row.claimed_dt = ScoreStatus.SENDING, worker, now
    claimed = [Claimed(r.id, r.resource_link_id, r.item_key, r.score_given, r.score_maximum) for r in rows]
    db.session.commit()
    return claimed


def _label(key: str) -> str:
    return (
        "Course complete (independent learning; not CE)"
        if key == COURSE_ITEM
        else (f"Session {key.removeprefix('session-')} complete (readings, exercise, quiz)")
    )


def _line_item(link: LtiResourceLink, key: str, token: str, maximum: int) -> str:
    url = db.session.scalar(
        select(LtiLineItem.url).where(LtiLineItem.resource_link_id == link.id, LtiLineItem.item_key == key)
    )
    if url:
        return url
    url = create_line_item(link.lineitems_url or "", token, label=_label(key), resource_id=f"imh-{key}",
                           maximum=maximum)  # fmt: skip
    begin_write()
    db.session.add(LtiLineItem(resource_link_id=link.id, item_key=key, url=url[:500]))
    db.session.commit()
    return url


def _post(item: Claimed, tokens: dict[int, str]) -> None:
    link = db.session.get(LtiResourceLink, item.link_id)
    row = db.session.get(LtiScore, item.id)
    person = (
        db.session.scalar(
            select(LtiUserLink).where(
                LtiUserLink.user_id == row.user_id, LtiUserLink.issuer == link.platform.issuer
            )
        )
        if link is not None and row is not None
        else None
    )
    if link is None or person is None or link.offering_id is None:
        raise ServiceError("the learner or the link is no longer linked to this LMS")
    platform = link.platform
    if platform.id not in tokens:
        tokens[platform.id] = access_token(platform, [AGS_LINEITEM_SCOPE, AGS_SCORE_SCOPE])
    token = tokens[platform.id]
    line_item = _line_item(link, item.item_key, token, item.maximum)
    certificates = external_url("imh.learner_certificates", offering_id=link.offering_id)
    post_score(line_item, token, {
        "userId": person.sub,
        "scoreGiven": item.given,
        "scoreMaximum": item.maximum,
        "activityProgress": "Completed" if item.given >= item.maximum else "InProgress",
        "gradingProgress": "FullyGraded",
        "timestamp": utcnow().astimezone(UTC).isoformat(timespec="milliseconds"),
        "comment": f"Independent learning only (CE hours are never a grade). CE certificate: {certificates}",
    })  # fmt: skip


def _record(item: Claimed, worker: str, error: str | None) -> None:
    begin_write()
    row = db.session.scalar(locked(select(LtiScore).where(LtiScore.id == item.id)))
    still_ours = row is not None and row.status is ScoreStatus.SENDING and row.claimed_by == worker
    if still_ours and (row.score_given, row.score_maximum) == (item.given, item.maximum):
        if error is None:
            row.status, row.last_error = ScoreStatus.SENT, None
        else:
            row.attempts += 1
            decision = after_failure(row.attempts, permanent=False)
            row.status = ScoreStatus.FAILED if decision.give_up else ScoreStatus.QUEUED
            row.next_attempt_dt, row.last_error = utcnow() + decision.delay, error[:500]
        row.claimed_by = None
    elif still_ours:  # changed while posting: the new value goes next
        row.status, row.claimed_by = ScoreStatus.QUEUED, None
    db.session.commit()


def send_due(worker: str, limit: int = BATCH) -> tuple[int, int]:
    """Post due scores; (sent, failed attempts)."""
    tokens: dict[int, str] = {}
    sent = failed = 0
    for item in _claim(worker, limit):
        try:
            _post(item, tokens)
        except ServiceError as exc:
            db.session.rollback()
            _record(item, worker, str(exc))
            failed += 1
        else:
            _record(item, worker, None)
            sent += 1
    return sent, failed
