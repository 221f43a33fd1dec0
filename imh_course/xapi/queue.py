"""The xAPI queue: statements written with their cause, delivered once by ``flask imh xapi run``.

``enqueue`` only adds a row to the caller's session (never commits), so a statement exists
exactly when its event does. Claiming, the lease and recording the outcome follow
:mod:`imh_course.delivery`, as the email outbox does. A worker that dies mid-send leaves a claim
another takes over after the lease; the statement is then sent again with the same id, which the
LRS recognises (204), so it is still stored once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..delivery import DeliveryQueue, RunReport, worker_name
from ..extensions import db
from ..models.types import utcnow
from ..models.xapi import XapiStatement, XapiStatus
from ..rules.xapi import Outcome, retry_delay
from .lrs import Answer, LrsClient
from .statements import VERB_NAMES


def enabled() -> bool:
    """xAPI is on when an LRS endpoint is configured (start-up checked the rest)."""
    return bool(str(current_app.config.get("IMH_XAPI_ENDPOINT") or "").strip())


def enqueue(statement: dict[str, Any], subject: str, user_id: int | None) -> XapiStatement | None:
    """Queue ``statement`` in the current transaction (flushes, never commits).

    The same statement id queued twice (the same event produced again) is kept once: None then.
    """
    row = XapiStatement(
        statement_id=statement["id"],
        verb=VERB_NAMES[statement["verb"]["id"]],
        subject=subject[:120],
        user_id=user_id,
        content=json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        status=XapiStatus.QUEUED,
        attempts=0,
        next_attempt_dt=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None
    return row


def latest_for(subject: str, verb: str) -> XapiStatement | None:
    """The newest statement queued about ``subject`` with ``verb`` (what a correction voids)."""
    return db.session.scalar(
        select(XapiStatement)
        .where(XapiStatement.subject == subject, XapiStatement.verb == verb)
        .order_by(XapiStatement.id.desc())
        .limit(1)
    )


# --- the worker ----------------------------------------------------------------------------------


QUEUE = DeliveryQueue(XapiStatement, XapiStatus.QUEUED, XapiStatus.SENDING)
claim = QUEUE.claim


def deliver_claimed(ids: list[int], worker: str, client: LrsClient, now: datetime) -> RunReport:
    """Send each claimed statement once and record what happened."""
    report = RunReport()
    unreachable: str | None = None
    for row_id in ids:
        row = db.session.execute(
            select(XapiStatement.statement_id, XapiStatement.content, XapiStatement.attempts).where(
                XapiStatement.id == row_id
            )
        ).one()
        db.session.rollback()  # no transaction stays open while talking to the LRS
        if unreachable is not None:  # the LRS is down: the rest of the batch waits without a timeout each
            answer = Answer(Outcome.RETRY, None, unreachable)
        else:
            answer = client.put(row.statement_id, row.content)
            if answer.status is None:
                unreachable = answer.reason
        if answer.outcome is Outcome.STORED:
            QUEUE.finish(row_id, worker, {"status": XapiStatus.SENT, "sent_dt": utcnow()})
            report.sent += 1
        elif answer.outcome is Outcome.REFUSED:
            QUEUE.finish(row_id, worker, {"status": XapiStatus.FAILED, "last_error": answer.reason[:500]})
            report.failed += 1
        else:
            values = {
                "status": XapiStatus.QUEUED,
                "next_attempt_dt": now + retry_delay(row.attempts),
                "last_error": answer.reason[:500],
            }
            QUEUE.finish(row_id, worker, values)
            report.retrying += 1
    return report


def deliver_due(
    client: LrsClient | None = None, *, now: datetime | None = None, worker: str | None = None
) -> RunReport:
    """One pass: claim and send batch after batch until nothing is due (``now``: for tests).

    Stops when the LRS is down (a whole batch waiting to retry): later statements stay queued as
    they are; within a batch, one unreachable LRS sets the rest to wait without trying each.
    """
    config = current_app.config
    client = client or LrsClient.from_config(config)
    worker = worker or worker_name()
    limit = int(config.get("IMH_XAPI_BATCH") or 20)
    total = RunReport()
    while True:
        moment = now or utcnow()
        ids = claim(worker, moment, limit)
        if not ids:
            return total
        done = deliver_claimed(ids, worker, client, moment)
        total.add(done)
        if done.retrying == len(ids):
            return total


def retry_now(row: XapiStatement) -> bool:
    """Queue a failed or waiting statement for the next pass (after fixing the LRS or the cause)."""
    if row.status not in (XapiStatus.FAILED, XapiStatus.QUEUED):
        return False
    row.status = XapiStatus.QUEUED
    row.next_attempt_dt = utcnow()
    db.session.flush()
    return True
