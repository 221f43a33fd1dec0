"""Security events: one logger, ``imh_course.security``, one line per event.

What a person types never reaches the log as-is: emails are masked (``a***@example.org``) and
carry a short keyed reference so repeated attempts on one account can be correlated without
storing the address; every value is stripped of CR/LF and other control characters so a crafted
email cannot forge extra log lines (ASVS 7.3.1); passwords and link tokens are never passed in,
and requests are identified by their route pattern (``/account/set-password/<token>``), never
the concrete path.

Each record also carries ``extra={"security_event": <name>, "security_fields": {...}}`` for a
structured handler (JSON, syslog) a deployment may attach.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any

from flask import current_app, has_app_context, has_request_context, request

logger = logging.getLogger("imh_course.security")

#: C0/C1 control characters plus the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_VALUE_LENGTH = 200


def clean(value: object) -> str:
    """A single-line, bounded rendering of ``value`` (control characters become ``?``)."""
    text = _CONTROL.sub("?", str(value))
    if len(text) > MAX_VALUE_LENGTH:
        text = text[:MAX_VALUE_LENGTH] + "…"
    return text


def email_ref(email: str | None) -> str:
    """A short keyed digest of the normalised email: the same account gives the same reference."""
    normalised = (email or "").strip().lower()
    key = b"imh-security-log"
    if has_app_context() and current_app.config.get("SECRET_KEY"):
        key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def mask_email(email: str | None) -> str:
    """``ada.lovelace@example.org`` -> ``a***@example.org`` (the domain helps spot campaigns)."""
    normalised = (email or "").strip().lower()
    if not normalised:
        return "(none)"
    local, at, domain = normalised.rpartition("@")
    if not at:
        return normalised[:1] + "***"
    return f"{local[:1]}***@{domain}"


def _client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log security event ``name`` with ``key=value`` fields (values cleaned, None dropped)."""
    if has_request_context():
        fields.setdefault("ip", _client_ip())
        # The route pattern, never the concrete path: paths can carry secrets (reset-link tokens).
        fields.setdefault("route", request.url_rule.rule if request.url_rule else "(no route)")
    kept = {key: clean(value) for key, value in fields.items() if value is not None}
    rendered = " ".join(f"{key}={value}" for key, value in kept.items())
    logger.log(
        level,
        "security event=%s %s",
        clean(name),
        rendered,
        extra={"security_event": name, "security_fields": kept},
    )


def _account(email: str | None) -> dict[str, str]:
    return {"account": mask_email(email), "ref": email_ref(email)}


# The events the module emits, so call sites stay short and consistent.


def signin_succeeded(user_id: int) -> None:
    event("signin.success", user=user_id)


def signin_failed(email: str | None, reason: str = "bad credentials") -> None:
    event("signin.failure", logging.WARNING, reason=reason, **_account(email))


def signed_out(user_id: int) -> None:
    event("signout", user=user_id)


def session_expired(user_id: int | None, why: str) -> None:
    event("session.expired", user=user_id, why=why)


def access_denied(user_id: int | None, status: int) -> None:
    event(
        "access.denied",
        logging.WARNING,
        user=user_id,
        status=status,
        method=request.method if has_request_context() else None,
        endpoint=request.endpoint if has_request_context() else None,
    )


def csrf_failed(reason: str, user_id: int | None = None) -> None:
    event("csrf.failure", logging.WARNING, user=user_id, reason=reason)


def rate_limited(kind: str, email: str | None = None) -> None:
    extra = _account(email) if email else {}
    event(
        "ratelimit.hit",
        logging.WARNING,
        kind=kind,
        endpoint=request.endpoint if has_request_context() else None,
        **extra,
    )


def password_changed(user_id: int, how: str) -> None:
    event("password.change", user=user_id, how=how)


def password_change_failed(user_id: int, reason: str) -> None:
    event("password.change_failure", logging.WARNING, user=user_id, reason=reason)


def reset_requested(email: str | None, account_exists: bool) -> None:
    event("password.reset_request", account_exists="yes" if account_exists else "no", **_account(email))


def reset_link_issued(user_id: int, valid_hours: float) -> None:
    event("password.reset_link_issued", user=user_id, valid_hours=valid_hours)


def audit_chain_failed(event_id: int, problem: str, where: str) -> None:
    event("audit.chain_failure", logging.ERROR, event_id=event_id, problem=problem, where=where)


def audit_anchor(seq: int, digest: str) -> None:
    """The audit chain's head, every IMH_AUDIT_ANCHOR_EVERY events: kept outside the database."""
    event("audit.anchor", seq=seq, anchor=f"{seq}:{digest}")
