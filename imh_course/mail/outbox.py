"""The outbox: queue a message with its cause; a worker claims, delivers and records each once.

``enqueue`` only adds a row to the caller's session (it never commits), so the message exists
exactly when the event that caused it does. Claiming, the lease and recording the outcome follow
:mod:`imh_course.delivery`; delivery happens outside any transaction.

A worker that dies between the mail server's "250 OK" and writing "sent" leaves a claim that
another worker takes over after :data:`~imh_course.rules.outbox.CLAIM_LEASE`; that one message
may then arrive twice (SMTP offers no way to ask whether it arrived). It keeps its Message-ID.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select

from ..delivery import DeliveryQueue, RunReport, worker_name
from ..extensions import db
from ..models.outbox import OutboxMessage, OutboxStatus
from ..models.types import utcnow
from ..rules.outbox import after_failure, is_permanent_smtp_code


# --- queueing ----------------------------------------------------------------------------------------
def enqueue(
    message: EmailMessage, kind: str, user_id: int | None = None, *, dedupe_key: str | None = None
) -> OutboxMessage:
    """Add ``message`` to the outbox in the current transaction (flushes, never commits).

    ``dedupe_key`` is unique among all messages: flushing a second message with the same key
    raises :class:`sqlalchemy.exc.IntegrityError` (see :mod:`imh_course.mail.scheduled`).
    """
    recipient = message["To"].addresses[0].addr_spec
    row = OutboxMessage(
        kind=kind,
        user_id=user_id,
        recipient=recipient,
        subject=str(message["Subject"])[:300],
        message_id=str(message["Message-ID"]),
        content=message.as_string(policy=policy.SMTP),
        status=OutboxStatus.QUEUED,
        attempts=0,
        next_attempt_dt=utcnow(),
        dedupe_key=dedupe_key,
    )
    db.session.add(row)
    db.session.flush()
    return row


# --- transports --------------------------------------------------------------------------------------
class DeliveryError(Exception):
    """An attempt failed: ``permanent`` when retrying cannot help (5xx reply)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Transport(Protocol):
    name: str

    def send(self, row_id: int, sender: str, recipient: str, content: str) -> None: ...

    def close(self) -> None: ...


def mail_folder(config: Mapping[str, Any], instance_path: str) -> Path:
    """Where the embedded default writes messages: IMH_MAIL_FOLDER, else ``instance/mail``."""
    return Path(config.get("IMH_MAIL_FOLDER") or Path(instance_path) / "mail")


def file_name(row_id: int) -> str:
    """The file of one message, from its id alone (no user input reaches a path)."""
    return f"{row_id:08d}.eml"


class FileTransport:
    """The embedded default: each message becomes one ``.eml`` file, written atomically."""

    name = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, row_id: int, sender: str, recipient: str, content: str) -> None:  # noqa: ARG002
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / file_name(row_id)
            temporary = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
            temporary.write_text(content, encoding="utf-8", newline="")
            os.replace(temporary, target)
        except OSError as exc:
            raise DeliveryError(
                f"could not write the message file: {exc.strerror or exc}", permanent=False
            ) from exc

    def close(self) -> None:
        pass


def read_file_message(folder: Path, row_id: int) -> EmailMessage | None:
    """A file-delivered message parsed back, or None if there is no such file."""
    path = folder / file_name(row_id)
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


class SmtpTransport:
    """Delivery through an SMTP server; one connection is reused for a batch."""

    name = "smtp"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = config["IMH_MAIL_SERVER"]
        self.port = int(config.get("IMH_MAIL_PORT") or 587)
        self.security = (config.get("IMH_MAIL_SECURITY") or "starttls").lower()
        self.username = config.get("IMH_MAIL_USERNAME") or ""
        self.password = config.get("IMH_MAIL_PASSWORD") or ""
        self.timeout = float(config.get("IMH_MAIL_TIMEOUT_SECONDS") or 30)
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                smtp.starttls(context=context)
        if self.username:
            smtp.login(self.username, self.password)
        return smtp

    def send(self, row_id: int, sender: str, recipient: str, content: str) -> None:  # noqa: ARG002
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.sendmail(sender, [recipient], content.encode("utf-8"))
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            code, text = next(iter(exc.recipients.values()), (None, b""))
            raise DeliveryError(_reason(code, text), permanent=is_permanent_smtp_code(code)) from exc
        except smtplib.SMTPAuthenticationError as exc:
            self.close()  # the settings are wrong, not the message: keep retrying
            raise DeliveryError(_reason(exc.smtp_code, exc.smtp_error), permanent=False) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            permanent = is_permanent_smtp_code(exc.smtp_code)
            raise DeliveryError(_reason(exc.smtp_code, exc.smtp_error), permanent=permanent) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, TLS failure
            self.close()
            raise DeliveryError(
                f"mail server unreachable: {exc or type(exc).__name__}", permanent=False
            ) from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _reason(code: int | None, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"mail server answered {code}: {words}" if code else f"mail server: {words}"


def transport_for(config: Mapping[str, Any], instance_path: str) -> Transport:
    """SMTP when IMH_MAIL_SERVER is set, else files under the mail folder."""
    if config.get("IMH_MAIL_SERVER"):
        return SmtpTransport(config)
    return FileTransport(mail_folder(config, instance_path))


# --- the worker --------------------------------------------------------------------------------------
QUEUE = DeliveryQueue(OutboxMessage, OutboxStatus.QUEUED, OutboxStatus.SENDING)
claim = QUEUE.claim


def deliver_claimed(ids: list[int], worker: str, transport: Transport, now: datetime) -> RunReport:
    """Try each claimed message once and record what happened."""
    config = current_app.config
    sender = config["IMH_MAIL_SENDER"]
    max_attempts = int(config.get("IMH_OUTBOX_MAX_ATTEMPTS") or 8)
    report = RunReport()
    for row_id in ids:
        row = db.session.execute(
            select(OutboxMessage.recipient, OutboxMessage.content, OutboxMessage.attempts).where(
                OutboxMessage.id == row_id
            )
        ).one()
        db.session.rollback()  # no transaction stays open while talking to the mail server
        try:
            transport.send(row_id, _envelope_sender(sender), row.recipient, row.content or "")
        except DeliveryError as exc:
            step = after_failure(row.attempts, permanent=exc.permanent, max_attempts=max_attempts)
            values: dict[str, Any] = {"last_error": str(exc)[:500]}
            if step.give_up:
                values["status"] = OutboxStatus.FAILED
                report.failed += 1
            else:
                values.update(status=OutboxStatus.QUEUED, next_attempt_dt=now + step.delay)
                report.retrying += 1
            QUEUE.finish(row_id, worker, values)
        else:
            QUEUE.finish(
                row_id,
                worker,
                {
                    "status": OutboxStatus.SENT,
                    "sent_dt": utcnow(),
                    "delivered_via": transport.name,
                    "content": None,
                },
            )
            report.sent += 1
    return report


def _envelope_sender(sender: str) -> str:
    from email.utils import parseaddr

    return parseaddr(sender)[1] or sender


def deliver_due(
    transport: Transport | None = None, *, now: datetime | None = None, worker: str | None = None
) -> RunReport:
    """One pass: claim and deliver batch after batch until nothing is due (``now``: for tests)."""
    app = current_app
    transport = transport or transport_for(app.config, app.instance_path)
    worker = worker or worker_name()
    limit = int(app.config.get("IMH_OUTBOX_BATCH") or 20)
    total = RunReport()
    try:
        while True:
            moment = now or utcnow()
            ids = claim(worker, moment, limit)
            if not ids:
                return total
            done = deliver_claimed(ids, worker, transport, moment)
            total.add(done)
    finally:
        transport.close()


def retry_now(row: OutboxMessage) -> bool:
    """Queue a failed or waiting message for the next pass, with a fresh set of attempts."""
    if row.status not in (OutboxStatus.FAILED, OutboxStatus.QUEUED):
        return False
    row.status = OutboxStatus.QUEUED
    row.next_attempt_dt = utcnow()
    row.attempts = 0
    db.session.flush()
    return True
