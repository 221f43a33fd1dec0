"""Helpers for the xAPI tests: settings that switch it on, and reading the queue back."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import XapiStatement

BASE_URL = "http://imh.test"


def xapi_config(endpoint: str, key: str = "imh-key", secret: str = "imh-secret-1") -> dict[str, object]:  # noqa: S107
    return {
        "IMH_BASE_URL": BASE_URL,
        "IMH_XAPI_ENDPOINT": endpoint,
        "IMH_XAPI_KEY": key,
        "IMH_XAPI_SECRET": secret,
        "IMH_XAPI_TIMEOUT_SECONDS": 5,
        "IMH_XAPI_BATCH": 7,
    }


def queued() -> list[XapiStatement]:
    return list(db.session.scalars(select(XapiStatement).order_by(XapiStatement.id)))


def statements() -> list[dict[str, Any]]:
    return [json.loads(row.content) for row in queued()]


def verbs() -> list[str]:
    return [row.verb for row in queued()]


def run_demo_story(runner) -> None:  # noqa: ANN001
    """``flask imh demo``: a mid-term offering with records and a finished term with a certificate."""
    result = runner.invoke(args=["imh", "demo", "--base-url", BASE_URL])
    assert result.exit_code == 0, result.output
