"""Calls from the tool to the platform's LTI Advantage services (OAuth2 client credentials).

The tool asks the platform's token URL for an access token with a client assertion: a JWT it signs
with its own key (``iss``/``sub`` = client id, ``aud`` = token URL, a fresh ``jti``), as the LTI
security framework requires. HTTP goes through the standard library with short timeouts; every
failure becomes :class:`ServiceError` with a reason a person can read.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from ..models.lti import LtiPlatform
from . import keys

TIMEOUT_SECONDS = 10
MAX_PAGES = 50
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class ServiceError(RuntimeError):
    """The platform's service could not be used; nothing was changed here."""


def _request(url: str, **options: Any) -> urllib.request.Request:
    if not url.startswith(("https://", "http://")):
        raise ServiceError(f"not a web address: {url[:200]}")
    return urllib.request.Request(url, **options)  # noqa: S310 - http(s) only, checked above


def _open(request: urllib.request.Request) -> tuple[Any, dict[str, str]]:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - admin-registered URL
            return json.loads(response.read().decode("utf-8")), dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        raise ServiceError(f"the platform answered {exc.code} at {request.full_url[:200]}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ServiceError(f"the platform could not be reached ({exc})") from None
    except ValueError:
        raise ServiceError("the platform's answer was not JSON") from None


def access_token(platform: LtiPlatform, scopes: list[str]) -> str:
    now = int(time.time())
    try:
        assertion = keys.sign(
            {"iss": platform.client_id, "sub": platform.client_id, "aud": platform.token_url, "iat": now,
             "exp": now + 300, "jti": secrets.token_urlsafe(16)}
        )  # fmt: skip
    except RuntimeError as exc:
        raise ServiceError(str(exc)) from None
    body = urlencode(
        {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
         "client_assertion": assertion, "scope": " ".join(scopes)}
    ).encode()  # fmt: skip
    request = _request(platform.token_url, data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    data, _ = _open(request)
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ServiceError("the platform's token answer has no access_token")
    return token


def _next_link(headers: dict[str, str]) -> str | None:
    link = next((v for k, v in headers.items() if k.lower() == "link"), "")
    match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', link)
    return match.group(1) if match else None


def memberships(platform: LtiPlatform, url: str, token: str) -> list[Any]:
    """Every member of the LMS course (follows ``Link: rel=next`` pages)."""
    members: list[Any] = []
    pages = 0
    next_url: str | None = url
    while next_url and pages < MAX_PAGES:
        request = _request(next_url)
        request.add_header("Accept", NRPS_MEDIA_TYPE)
        request.add_header("Authorization", f"Bearer {token}")
        data, headers = _open(request)
        page = data.get("members") if isinstance(data, dict) else None
        if not isinstance(page, list):
            raise ServiceError("the platform's roster answer has no members list")
        members.extend(page)
        next_url, pages = _next_link(headers), pages + 1
    return members


LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"


def _send_json(url: str, token: str, body: dict[str, Any], media_type: str) -> Any:
    request = _request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", media_type)
    request.add_header("Accept", LINEITEM_MEDIA_TYPE)
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - checked
            raw = response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        raise ServiceError(f"the platform answered {exc.code} at {url[:200]}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ServiceError(f"the platform could not be reached ({exc})") from None
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ServiceError("the platform's answer was not JSON") from None


def create_line_item(lineitems_url: str, token: str, *, label: str, resource_id: str, maximum: int) -> str:
    """Make a gradebook column; its URL."""
    body = {"scoreMaximum": maximum, "label": label, "resourceId": resource_id, "tag": "imh-completion"}
    data = _send_json(lineitems_url, token, body, LINEITEM_MEDIA_TYPE)
    url = data.get("id") if isinstance(data, dict) else None
    if not isinstance(url, str) or not url:
        raise ServiceError("the platform did not return the new line item's id")
    return url


def scores_url(line_item_url: str) -> str:
    """``…/lineitems/7/scores``, keeping a query string where the platform put one."""
    base, _, query = line_item_url.partition("?")
    return base.rstrip("/") + "/scores" + (f"?{query}" if query else "")


def post_score(line_item_url: str, token: str, score: dict[str, Any]) -> None:
    _send_json(scores_url(line_item_url), token, score, SCORE_MEDIA_TYPE)
