"""The module's own settings and their defaults (each overridable as an ``IMH_*`` variable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The folder that holds ``readings/`` and ``quizzes/`` by default: the project root, resolved
#: from this file, never from the working directory.
DEFAULT_CONTENT_ROOT = str(Path(__file__).resolve().parent.parent)

DEFAULTS: dict[str, Any] = {
    "IMH_URL_PREFIX": "",
    "IMH_CONTENT_ROOT": DEFAULT_CONTENT_ROOT,
    "IMH_PROVIDER_NAME": "Society for the Protection and Care of Children (SPCC)",
    # The provider's website, named as the issuer's URL in Open Badges credentials (empty: the
    # course page)
    "IMH_PROVIDER_URL": "",
    # Encrypts the Open Badges signing keys stored in the database (empty: SECRET_KEY). Keep it
    # stable: a key encrypted with a lost passphrase can no longer sign (it still verifies).
    "IMH_CREDENTIAL_KEY_PASSPHRASE": "",
    "IMH_TIMEZONE": "America/New_York",
    # Credit engine (DOMAIN.md defaults)
    "IMH_CREDIT_MODE": "increments",
    "IMH_MINUTES_PER_CE_HOUR": 60,
    "IMH_CREDIT_INCREMENT_MINUTES": 15,
    "IMH_CREDIT_GRACE_MINUTES": 0,
    "IMH_COMPLETION_MIN_MEETINGS": 10,
    # Demo data
    "IMH_DEMO_PASSWORD": "demo-password-2026",
    # Sign-in throttling (failed attempts; "limits" notation, several separated by ";")
    "IMH_SIGNIN_LIMIT_PER_IP": "10 per minute; 100 per hour",
    "IMH_SIGNIN_LIMIT_PER_ACCOUNT": "10 per 15 minutes",
    # Sessions: signed out after this many minutes without a request (0 = never); the absolute
    # lifetime is PERMANENT_SESSION_LIFETIME (12 hours)
    "IMH_IDLE_TIMEOUT_MINUTES": 30,
    # Sign out when the client address changes (off: phones move between Wi-Fi and mobile data;
    # the user-agent check and the rotating session token stay on; see docs/SECURITY.md)
    "IMH_SESSION_BIND_ADDRESS": False,
    # The security log records the audit chain's head (`audit.anchor`) every this many events
    # (0 = never); see docs/SECURITY.md
    "IMH_AUDIT_ANCHOR_EVERY": 100,
    # The site's public address, used for links printed by CLI commands (e.g. https://imh.example.org)
    "IMH_BASE_URL": "",
    # Email (see README "Email"): with no server set, messages are written to files under
    # IMH_MAIL_FOLDER (default: the instance folder's mail/) for an admin to read in the browser.
    "IMH_MAIL_SERVER": "",
    "IMH_MAIL_PORT": 587,
    # starttls (upgrade after connecting, usually port 587), tls (TLS from the start, usually 465)
    # or none (loopback relays only)
    "IMH_MAIL_SECURITY": "starttls",
    "IMH_MAIL_USERNAME": "",
    "IMH_MAIL_PASSWORD": "",
    "IMH_MAIL_SENDER": "IMH Course <no-reply@localhost>",
    "IMH_MAIL_FOLDER": "",
    "IMH_MAIL_TIMEOUT_SECONDS": 30,
    # The worker (flask imh outbox run): attempts before a message is marked failed, messages
    # claimed at a time, seconds between looks at an empty outbox
    "IMH_OUTBOX_MAX_ATTEMPTS": 8,
    "IMH_OUTBOX_BATCH": 20,
    "IMH_OUTBOX_POLL_SECONDS": 5,
    # seconds between the worker's scans for meeting reminders and "no sign-out recorded"
    # notices (0: never; then run `flask imh outbox reminders` from cron)
    "IMH_REMINDER_SCAN_SECONDS": 900,
    # xAPI (see README "Learning Record Store"): off while IMH_XAPI_ENDPOINT is empty. The LRS's
    # statement API root (…/xAPI/), its basic-auth key and secret; the worker (flask imh xapi run)
    # waits this long for an answer, claims this many statements at a time, polls this often
    "IMH_XAPI_ENDPOINT": "",
    "IMH_XAPI_KEY": "",
    "IMH_XAPI_SECRET": "",
    "IMH_XAPI_TIMEOUT_SECONDS": 10,
    "IMH_XAPI_BATCH": 20,
    "IMH_XAPI_POLL_SECONDS": 5,
}


def apply_defaults(config: dict[str, Any]) -> None:
    """Fill in every module setting the host did not set."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def xapi_problems(config: dict[str, Any]) -> list[str]:
    """What is wrong with the xAPI settings (empty when off or complete), in words for the operator."""
    endpoint = str(config.get("IMH_XAPI_ENDPOINT") or "").strip()
    if not endpoint:
        if config.get("IMH_XAPI_KEY") or config.get("IMH_XAPI_SECRET"):
            return ["IMH_XAPI_KEY/IMH_XAPI_SECRET are set but IMH_XAPI_ENDPOINT is empty (xAPI stays off)"]
        return []
    from urllib.parse import urlsplit

    problems = []
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        problems.append(
            f"IMH_XAPI_ENDPOINT must be an http(s) URL like https://lrs.example.org/xAPI/, got {endpoint!r}"
        )
    elif (
        parts.scheme == "http"
        and config.get("IMH_ENV") == "production"
        and parts.hostname not in {"127.0.0.1", "localhost", "::1"}
    ):
        problems.append(
            "IMH_XAPI_ENDPOINT must use https in production (the secret travels with every request)"
        )
    if not config.get("IMH_XAPI_KEY") or not config.get("IMH_XAPI_SECRET"):
        problems.append("IMH_XAPI_ENDPOINT is set: IMH_XAPI_KEY and IMH_XAPI_SECRET are required too")
    if not str(config.get("IMH_BASE_URL") or "").strip():
        problems.append("IMH_XAPI_ENDPOINT is set: IMH_BASE_URL is required (activity ids live under it)")
    return problems


#: Seconds a Redis rate-limit storage may take to connect or answer before it counts as down.
REDIS_TIMEOUT_SECONDS = 1.0


def apply_limiter_defaults(config: dict[str, Any]) -> None:
    """Rate limits that survive their storage: in-process fallback, bounded waits on Redis.

    Redis stopped (connections refused) or hung (no answer) must not turn limited routes into 500s
    or hang every request: Flask-Limiter falls back to in-process counting (a warning, then retries
    with back-off), and redis-py, which waits forever by default, gives up after a second.
    """
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "")
    if uri.split("://", 1)[0] in {"redis", "rediss"}:
        options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("socket_connect_timeout", REDIS_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", REDIS_TIMEOUT_SECONDS)
        config["RATELIMIT_STORAGE_OPTIONS"] = options
