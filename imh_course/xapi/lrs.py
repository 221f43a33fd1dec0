"""Talking to a Learning Record Store: one ``PUT /statements?statementId=…`` per statement.

PUT with the statement's own id (xAPI 1.0.3 §2.1.1) rather than POST: the id is ours, so a retry
after a lost answer is recognised by the LRS (204 again, nothing stored twice). The standard
library's HTTP client is enough for this and adds no dependency.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..rules.xapi import Outcome, outcome_of
from .statements import XAPI_VERSION


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    #: the HTTP status, or None when the LRS could not be reached
    status: int | None
    #: words for the record when it was not stored
    reason: str = ""


class LrsClient:
    def __init__(self, endpoint: str, key: str, secret: str, timeout: float = 10) -> None:
        self.endpoint = endpoint.rstrip("/")
        token = base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LrsClient:
        return cls(
            config["IMH_XAPI_ENDPOINT"],
            config["IMH_XAPI_KEY"],
            config["IMH_XAPI_SECRET"],
            float(config.get("IMH_XAPI_TIMEOUT_SECONDS") or 10),
        )

    def put(self, statement_id: str, content: str) -> Answer:
        url = f"{self.endpoint}/statements?{urllib.parse.urlencode({'statementId': statement_id})}"
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked at start-up (http/https)
            url,
            data=content.encode("utf-8"),
            method="PUT",
            headers={
                "Authorization": self._authorization,
                "Content-Type": "application/json",
                "X-Experience-API-Version": XAPI_VERSION,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
                return Answer(outcome_of(response.status), response.status)
        except urllib.error.HTTPError as exc:
            with exc:
                body = exc.read(300).decode("utf-8", "replace")
            return Answer(outcome_of(exc.code), exc.code, f"LRS answered {exc.code}: {body}".strip())
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            return Answer(Outcome.RETRY, None, f"LRS unreachable: {reason}")
