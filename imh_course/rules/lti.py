"""LTI 1.3 claim rules: what a verified id_token must say, and which course roles it grants.

Pure: the id_token's payload (already signature-checked) and the registration's facts in, a
refusal reason or a value out. Only two LMS roles mean anything here: the context role
Instructor makes a person instructor of the linked offering, Learner makes them a learner.
Administrators, teaching assistants, mentors, institution and system roles grant nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = CLAIM + "message_type"
VERSION = CLAIM + "version"
DEPLOYMENT_ID = CLAIM + "deployment_id"
TARGET_LINK_URI = CLAIM + "target_link_uri"
RESOURCE_LINK = CLAIM + "resource_link"
ROLES = CLAIM + "roles"
CONTEXT = CLAIM + "context"
LTI_VERSION = "1.3.0"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
SUPPORTED_MESSAGES = frozenset({RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST})
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CUSTOM = CLAIM + "custom"
#: the custom parameter the tool puts on the links it places (a value signed by the tool)
PLACEMENT_PARAMETER = "imh_placement"

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR_ROLE = MEMBERSHIP + "Instructor"
LEARNER_ROLE = MEMBERSHIP + "Learner"


class CourseRole(StrEnum):
    INSTRUCTOR = "instructor"
    LEARNER = "learner"


class ClaimProblem(ValueError):
    """A launch refused for a reason a person can read; ``status`` is 401 or 403."""

    def __init__(self, reason: str, status: int = 403, retry: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        #: login parameters to start again in a new window (the browser blocked the frame's cookies)
        self.retry = dict(retry) if retry else None


@dataclass(frozen=True)
class DeepLinkSettings:
    """Where to send the picked links back, and the platform's opaque ``data`` to echo."""

    return_url: str
    data: str | None
    accept_multiple: bool


@dataclass(frozen=True)
class Launch:
    """The facts of a verified launch the tool acts on (a resource link, or a deep-linking request)."""

    issuer: str
    sub: str
    deployment_id: str
    message_type: str
    resource_link_id: str | None
    resource_link_title: str | None
    context_id: str | None
    context_title: str | None
    roles: frozenset[CourseRole]
    name: str | None
    email: str | None
    #: the tool-signed placement of a link it placed by deep linking (custom parameter), if any
    placement: str | None = None
    deep_link: DeepLinkSettings | None = None
    memberships_url: str | None = None
    lineitems_url: str | None = None


def course_roles(lms_roles: Iterable[Any]) -> frozenset[CourseRole]:
    """Instructor and/or learner, from the LMS roles; every other role grants nothing."""
    granted: set[CourseRole] = set()
    for role in lms_roles:
        if role == INSTRUCTOR_ROLE:
            granted.add(CourseRole.INSTRUCTOR)
        elif role == LEARNER_ROLE:
            granted.add(CourseRole.LEARNER)
    return frozenset(granted)


def check_audience(payload: Mapping[str, Any], client_id: str) -> None:
    """``aud`` holds the client id; with several audiences ``azp`` must be present and ours (OIDC 3.1.3.7)."""
    aud = payload.get("aud")
    audiences = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
    if client_id not in audiences:
        raise ClaimProblem("the id_token is not addressed to this tool (aud)", 401)
    azp = payload.get("azp")
    if len(audiences) > 1 and azp is None:
        raise ClaimProblem("the id_token has several audiences but no azp", 401)
    if azp is not None and azp != client_id:
        raise ClaimProblem("the id_token's azp is not this tool's client id", 401)


def _text(payload: Mapping[str, Any], key: str, what: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ClaimProblem(f"the launch has no {what}")
    return value


def _optional_text(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


def check_launch(payload: Mapping[str, Any], deployment_ids: Iterable[str]) -> Launch:
    """The launch's facts, or :class:`ClaimProblem` naming the first thing wrong with it."""
    message_type = payload.get(MESSAGE_TYPE)
    if message_type not in SUPPORTED_MESSAGES:
        raise ClaimProblem(f"unsupported LTI message type {message_type!r}")
    if payload.get(VERSION) != LTI_VERSION:
        raise ClaimProblem(f"unsupported LTI version {payload.get(VERSION)!r} (expected {LTI_VERSION})")
    deployment_id = _text(payload, DEPLOYMENT_ID, "deployment id")
    if deployment_id not in set(deployment_ids):
        raise ClaimProblem(f"unknown deployment id {deployment_id!r} for this platform")
    sub = _text(payload, "sub", "user id (sub)")
    link_id, deep_link = None, None
    if message_type == RESOURCE_LINK_REQUEST:
        link = payload.get(RESOURCE_LINK)
        if not isinstance(link, Mapping) or not isinstance(link.get("id"), str) or not link["id"]:
            raise ClaimProblem("the launch has no resource link id")
        link_id = link["id"][:255]
    else:
        deep_link = _deep_link_settings(payload.get(DEEP_LINKING_SETTINGS))
    link = payload.get(RESOURCE_LINK) if isinstance(payload.get(RESOURCE_LINK), Mapping) else {}
    roles = payload.get(ROLES)
    if not isinstance(roles, list):
        raise ClaimProblem("the launch has no roles claim")
    if message_type == DEEP_LINKING_REQUEST and CourseRole.INSTRUCTOR not in course_roles(roles):
        raise ClaimProblem("only an LMS instructor can place the course in an LMS course")
    if message_type == RESOURCE_LINK_REQUEST:
        _text(payload, TARGET_LINK_URI, "target link URI")
    custom = payload.get(CUSTOM) if isinstance(payload.get(CUSTOM), Mapping) else {}
    context = payload.get(CONTEXT) if isinstance(payload.get(CONTEXT), Mapping) else {}
    name = payload.get("name") or " ".join(
        part for part in (payload.get("given_name"), payload.get("family_name")) if isinstance(part, str)
    )
    email = payload.get("email")
    return Launch(
        issuer=str(payload["iss"]),
        sub=sub[:255],
        deployment_id=deployment_id[:255],
        message_type=message_type,
        resource_link_id=link_id,
        resource_link_title=_optional_text(link.get("title"), 300),
        context_id=_optional_text(context.get("id"), 255),
        context_title=_optional_text(context.get("title"), 300),
        roles=course_roles(roles),
        name=_optional_text(name, 200),
        email=_optional_text(email, 254).lower() if _optional_text(email, 254) else None,
        placement=_optional_text(custom.get(PLACEMENT_PARAMETER), 1000),
        deep_link=deep_link,
        memberships_url=memberships_url(payload),
        lineitems_url=lineitems_url(payload),
    )


def _deep_link_settings(settings: Any) -> DeepLinkSettings:
    if not isinstance(settings, Mapping):
        raise ClaimProblem("the deep-linking request has no deep_linking_settings")
    return_url = settings.get("deep_link_return_url")
    if not isinstance(return_url, str) or not return_url.startswith(("https://", "http://")):
        raise ClaimProblem("the deep-linking request has no deep_link_return_url")
    accepted = settings.get("accept_types")
    if not isinstance(accepted, list) or "ltiResourceLink" not in accepted:
        raise ClaimProblem("the platform does not accept LTI resource links here (accept_types)")
    data = settings.get("data")
    return DeepLinkSettings(
        return_url=return_url[:2000],
        data=data if isinstance(data, str) else None,
        accept_multiple=settings.get("accept_multiple") is True,
    )


NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass(frozen=True)
class Member:
    """One learner of the LMS course, from the roster (NRPS)."""

    sub: str
    name: str | None
    email: str | None


def memberships_url(payload: Mapping[str, Any]) -> str | None:
    claim = payload.get(NRPS_CLAIM)
    url = claim.get("context_memberships_url") if isinstance(claim, Mapping) else None
    return url[:500] if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def roster_learners(members: Iterable[Any]) -> list[Member]:
    """Active members holding the Learner context role (others are not enrolled by a sync)."""
    found: dict[str, Member] = {}
    for entry in members:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("user_id"), str):
            continue
        if not entry["user_id"]:
            continue
        if entry.get("status", "Active") != "Active":
            continue
        roles = entry.get("roles") if isinstance(entry.get("roles"), list) else []
        if CourseRole.LEARNER not in course_roles(roles):
            continue
        name = entry.get("name") or " ".join(
            p for p in (entry.get("given_name"), entry.get("family_name")) if isinstance(p, str)
        )
        email = entry.get("email")
        found[entry["user_id"][:255]] = Member(
            sub=entry["user_id"][:255],
            name=_optional_text(name, 200),
            email=_optional_text(email, 254).lower() if _optional_text(email, 254) else None,
        )
    return list(found.values())


AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
AGS_LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
AGS_SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
COURSE_ITEM = "course"


def lineitems_url(payload: Mapping[str, Any]) -> str | None:
    claim = payload.get(AGS_CLAIM)
    url = claim.get("lineitems") if isinstance(claim, Mapping) else None
    return url[:500] if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def session_item(number: int) -> str:
    return f"session-{number}"


def completion_scores(sessions: Iterable[tuple[int, bool]]) -> dict[str, tuple[int, int]]:
    """Gradebook values from independent work only: "Session N complete" 1/0, the course = sessions done.

    The input is (session number, readings + exercise + quiz all done) per session. CE contact hours
    are not an input and never become a score: CE credit is certified only by the certificate.
    """
    rows = sorted(sessions)
    scores = {session_item(number): (1 if done else 0, 1) for number, done in rows}
    scores[COURSE_ITEM] = (sum(1 for _n, done in rows if done), len(rows))
    return scores
