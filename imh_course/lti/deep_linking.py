"""Deep linking (LTI-DL 2.0): an LMS instructor picks an offering (and optionally a session) to place.

The picked link goes back to the platform in an ``LtiDeepLinkingResponse`` JWT signed with the
tool's key. The link carries a custom parameter the tool signed (``imh_placement``: platform,
offering, session); when the platform later launches the new link, the tool checks that
signature and connects the resource link, so an LMS user editing custom parameters cannot point a
link at another offering. An instructor can place only offerings they already teach, or that are
already linked from the same LMS course: picking a link never grants a new offering.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import or_, select

from ..extensions import db
from ..models.accounts import User
from ..models.curriculum import CourseSession
from ..models.lti import LtiPlatform, LtiResourceLink
from ..models.offerings import InstructorAssignment, Offering
from ..rules.lti import (
    DEEP_LINKING_RESPONSE,
    DEPLOYMENT_ID,
    LTI_VERSION,
    MESSAGE_TYPE,
    PLACEMENT_PARAMETER,
    VERSION,
    ClaimProblem,
    Launch,
)
from . import keys
from .urls import tool_urls

PLACEMENT_SALT = "imh-lti-placement"
REQUEST_SALT = "imh-lti-deep-link"
#: how long the picker stays usable after the deep-linking launch
REQUEST_MAX_AGE = 3600
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


def placement_token(platform_id: int, offering_id: int, number: int | None) -> str:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=PLACEMENT_SALT)
    return serializer.dumps({"p": platform_id, "o": offering_id, "s": number})


def read_placement(token: str, platform_id: int) -> tuple[int, int | None] | None:
    """(offering id, session number) of a placement this tool signed for ``platform_id``, else None."""
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=PLACEMENT_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != platform_id or not isinstance(data.get("o"), int):
        return None
    number = data.get("s")
    return data["o"], number if isinstance(number, int) else None


def pickable_offerings(user: User, platform: LtiPlatform, context_id: str | None) -> list[Offering]:
    """Offerings the person teaches, or already linked from this LMS course."""
    taught = select(InstructorAssignment.offering_id).where(InstructorAssignment.user_id == user.id)
    linked = select(LtiResourceLink.offering_id).where(
        LtiResourceLink.platform_id == platform.id,
        LtiResourceLink.context_id == context_id,
        LtiResourceLink.offering_id.is_not(None),
    )
    conditions = [Offering.id.in_(taught)]
    if context_id:
        conditions.append(Offering.id.in_(linked))
    query = select(Offering).where(or_(*conditions)).order_by(Offering.year.desc(), Offering.id.desc())
    return list(db.session.scalars(query))


def request_token(user: User, platform: LtiPlatform, launch: Launch) -> str:
    """The deep-linking request, signed, for the picker form (nothing kept server-side)."""
    assert launch.deep_link is not None
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=REQUEST_SALT)
    return serializer.dumps(
        {"u": user.id, "p": platform.id, "d": launch.deployment_id, "r": launch.deep_link.return_url,
         "x": launch.deep_link.data, "c": launch.context_id}
    )  # fmt: skip


def read_request(token: str) -> dict[str, Any]:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=REQUEST_SALT)
    try:
        data = serializer.loads(token, max_age=REQUEST_MAX_AGE)
    except BadSignature:
        raise ClaimProblem(
            "this picker has expired: open the tool's selection from the LMS again", 403
        ) from None
    if not isinstance(data, dict):
        raise ClaimProblem("this picker is not valid", 403)
    return data


def response_jwt(
    platform: LtiPlatform, request: dict[str, Any], offering: Offering, number: int | None
) -> str:
    """The signed LtiDeepLinkingResponse carrying one LTI resource link to the course."""

    title = f"{offering.course.title} — {offering.term.value.title()} {offering.year}"
    if number:
        session = db.session.scalar(
            select(CourseSession).where(
                CourseSession.course_id == offering.course_id, CourseSession.number == number
            )
        )
        title = f"Session {number}: {session.title}" if session else title
    item = {
        "type": "ltiResourceLink",
        "title": title[:250],
        "url": tool_urls()["launch"],
        "custom": {PLACEMENT_PARAMETER: placement_token(platform.id, offering.id, number)},
    }
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + 600,
        "nonce": secrets.token_urlsafe(16),
        MESSAGE_TYPE: DEEP_LINKING_RESPONSE,
        VERSION: LTI_VERSION,
        DEPLOYMENT_ID: request["d"],
        CONTENT_ITEMS: [item],
    }
    if request.get("x"):
        claims[DATA] = request["x"]
    return keys.sign(claims)
