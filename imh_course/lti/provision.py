"""What a verified launch does to accounts: the (issuer, sub) link, the resource link and the roles.

A first launch creates the person from the name and email claims, without a password (they can
set one later through "Forgot your password?", which works for any account with a real email).
The email claim is never used to *find* an account: an LMS must not be able to sign in as whoever
owns an address here, so when the address is taken the new person gets a placeholder address and
an admin may link the two (the LTI admin page). Accounts holding coordinator or admin rights are
never signed in by an LMS. Only LMS Instructor and Learner mean anything: instructor of the
linked offering, learner enrolled in it. Every change is audited, in the launch's transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write, serialize_writers
from ..extensions import db
from ..models.accounts import LearnerProfile, User, UserRole
from ..models.audit_chain import Actor, record_event
from ..models.curriculum import CourseSession
from ..models.lti import LtiPlatform, LtiResourceLink, LtiUserLink
from ..models.offerings import Enrolment, EnrolmentStatus, InstructorAssignment, Offering
from ..models.types import utcnow
from ..operations.accounts import create_user, find_user
from ..rules.lti import ClaimProblem, CourseRole, Launch
from ..security.roles import Role

LTI_ACTOR_ROLE = "lti"
#: roles an LMS launch never signs in to: those accounts use their password
PROTECTED_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR})
PLACEHOLDER_DOMAIN = "lti.invalid"


@dataclass(frozen=True)
class Arrival:
    """The outcome of a launch for the person: who, which link, what they may do there."""

    user: User
    #: None for a deep-linking launch (no link exists yet)
    resource_link: LtiResourceLink | None
    created_account: bool
    roles: frozenset[CourseRole]


def placeholder_email(issuer: str, sub: str) -> str:
    digest = hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()[:20]
    return f"lti-{digest}@{PLACEHOLDER_DOMAIN}"


def _actor(user: User | None) -> Actor:
    return Actor(user=user, role=LTI_ACTOR_ROLE)


def _find_or_create_user(platform: LtiPlatform, launch: Launch) -> tuple[User, bool]:
    if not launch.roles:
        existing = find_link(launch.issuer, launch.sub)
        if existing is None:
            raise ClaimProblem("your LMS role gives no access to this course (only Instructor or Learner do)")
    learner = CourseRole.LEARNER in launch.roles or not launch.roles
    return link_or_create(platform, launch.sub, launch.name, launch.email, learner=learner)


def find_link(issuer: str, sub: str) -> LtiUserLink | None:
    return db.session.scalar(select(LtiUserLink).where(LtiUserLink.issuer == issuer, LtiUserLink.sub == sub))


def link_or_create(
    platform: LtiPlatform, sub: str, name: str | None, email: str | None, *, learner: bool
) -> tuple[User, bool]:
    """The person linked to (platform issuer, sub), or a new account for them (flushes, audits)."""
    serialize_writers("imh:accounts")
    link = find_link(platform.issuer, sub)
    if link is not None:
        link.last_launch_dt = utcnow()
        return link.user, False
    address = email if email and find_user(email) is None else None
    address = address or placeholder_email(platform.issuer, sub)
    if find_user(address) is not None:  # a placeholder left by an earlier link an admin moved
        raise ClaimProblem("an account for this LMS user exists but is not linked: ask an admin", 403)
    roles = [Role.LEARNER] if learner else [Role.INSTRUCTOR]
    user = create_user(_actor(None), email=address, full_name=name or "LMS user", roles=roles, password=None)
    db.session.add(
        LtiUserLink(
            issuer=platform.issuer, sub=sub, user_id=user.id, platform_id=platform.id, last_launch_dt=utcnow()
        )
    )
    db.session.flush()
    record_event(
        _actor(None), "lti.user_link", "user", user.id,
        after={"issuer": platform.issuer, "sub": sub, "platform_id": platform.id},
        learner_id=user.id if learner else None,
    )  # fmt: skip
    return user, True


def _resource_link(platform: LtiPlatform, launch: Launch) -> LtiResourceLink:
    assert launch.resource_link_id is not None
    query = select(LtiResourceLink).where(
        LtiResourceLink.platform_id == platform.id,
        LtiResourceLink.deployment_id == launch.deployment_id,
        LtiResourceLink.resource_link_id == launch.resource_link_id,
    )
    link = db.session.scalar(query)
    if link is None:
        link = LtiResourceLink(
            platform_id=platform.id,
            deployment_id=launch.deployment_id,
            resource_link_id=launch.resource_link_id,
        )
        try:
            with db.session.begin_nested():
                db.session.add(link)
        except IntegrityError:  # placed by a concurrent first launch
            link = db.session.scalar(query)
    link.title = launch.resource_link_title
    link.context_id = launch.context_id
    link.context_title = launch.context_title
    link.memberships_url = launch.memberships_url or link.memberships_url
    link.lineitems_url = launch.lineitems_url or link.lineitems_url
    if link.offering_id is None and launch.placement:
        _place(platform, link, launch.placement)
    return link


def _place(platform: LtiPlatform, link: LtiResourceLink, placement: str) -> None:
    """Connect a link the tool placed by deep linking (its signed custom parameter) on its first launch."""
    from .deep_linking import read_placement

    placed = read_placement(placement, platform.id)
    if placed is None:
        return  # not ours, or for another platform: stays unconnected for an admin to decide
    offering_id, number = placed
    offering = db.session.get(Offering, offering_id)
    if offering is None:
        return
    session_id = None
    if number:
        session_id = db.session.scalar(
            select(CourseSession.id).where(
                CourseSession.course_id == offering.course_id, CourseSession.number == number
            )
        )
    link.offering_id, link.session_id = offering.id, session_id
    db.session.flush()
    record_event(
        _actor(None), "lti.resource_link_connect", "lti_resource_link", link.id, offering_id=offering.id,
        after={"offering_id": offering.id, "session_id": session_id, "via": "deep_link"},
    )  # fmt: skip


def _grant_role(user: User, role: Role) -> None:
    if user.has_role(role):
        return
    user.roles.append(UserRole(role=role))
    if role is Role.LEARNER and user.profile is None:
        user.profile = LearnerProfile(certificate_name=user.full_name)
    db.session.flush()
    record_event(
        _actor(user), "account.update", "user", user.id, after={"roles_added": [role.value], "via": "lti"},
        learner_id=user.id if role is Role.LEARNER else None,
    )  # fmt: skip


def _apply_course_roles(user: User, link: LtiResourceLink, roles: frozenset[CourseRole]) -> None:
    offering_id = link.offering_id
    if offering_id is None:
        return
    if CourseRole.INSTRUCTOR in roles:
        _grant_role(user, Role.INSTRUCTOR)
        assigned = db.session.scalar(
            select(InstructorAssignment.id).where(
                InstructorAssignment.offering_id == offering_id, InstructorAssignment.user_id == user.id
            )
        )
        if assigned is None:
            db.session.add(InstructorAssignment(offering_id=offering_id, user_id=user.id))
            db.session.flush()
            record_event(
                _actor(user), "offering.assign_instructor", "offering", offering_id,
                offering_id=offering_id, after={"instructor_id": user.id, "via": "lti"},
            )  # fmt: skip
    if CourseRole.LEARNER in roles:
        enrol(user, offering_id)


def enrol(user: User, offering_id: int) -> bool:
    """Make ``user`` a learner enrolled in the offering; False if already enrolled (any status).

    A withdrawn learner stays withdrawn: only a coordinator reinstates.
    """
    _grant_role(user, Role.LEARNER)
    enrolled = db.session.scalar(
        select(Enrolment.id).where(Enrolment.offering_id == offering_id, Enrolment.user_id == user.id)
    )
    if enrolled is not None:
        return False
    enrolment = Enrolment(offering_id=offering_id, user_id=user.id)
    db.session.add(enrolment)
    db.session.flush()
    record_event(
        _actor(user), "enrolment.create", "enrolment", enrolment.id,
        offering_id=offering_id, learner_id=user.id,
        after={"funding": enrolment.funding.value, "status": EnrolmentStatus.ACTIVE.value, "via": "lti"},
    )  # fmt: skip
    return True


def arrive(platform: LtiPlatform, launch: Launch) -> Arrival:
    """Link or create the person, remember the resource link, grant the course roles. Flushes."""
    begin_write()
    user, created = _find_or_create_user(platform, launch)
    if user.erased_dt is not None or not user.is_enabled:
        raise ClaimProblem("this account is disabled here: ask the course coordinator", 403)
    if user.role_set & PROTECTED_ROLES:
        raise ClaimProblem(
            "accounts with coordinator or admin rights sign in with their password, not from an LMS", 403
        )
    if launch.resource_link_id is None:  # deep linking: the person only, the link comes later
        return Arrival(user=user, resource_link=None, created_account=created, roles=launch.roles)
    link = _resource_link(platform, launch)
    _apply_course_roles(user, link, launch.roles)
    if link.offering_id is not None and link.lineitems_url and CourseRole.LEARNER in launch.roles:
        from .grades import queue_learner

        db.session.flush()
        queue_learner(link.offering_id, user.id)
    return Arrival(user=user, resource_link=link, created_account=created, roles=launch.roles)
