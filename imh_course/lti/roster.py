"""Roster sync (Names and Role Provisioning Services): the LMS course's learners into the offering.

"Sync roster" reads the members of the LMS course behind a connected link and enrols every active
Learner in the link's offering: people new here get an account (as on a first launch, linked by
(issuer, sub), never by email), people already enrolled are left as they are, and enrolled
people of this LMS who are no longer in the LMS course are *shown* as having left — never
withdrawn or deleted: a coordinator decides. License fields stay those of the learner's profile.
One audit event (``lti.roster_sync``) records the counts, besides each enrolment's own event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..database import begin_write, serialize_writers
from ..extensions import db
from ..models.accounts import User
from ..models.audit_chain import Actor, record_event
from ..models.lti import LtiResourceLink, LtiUserLink
from ..models.offerings import Enrolment
from ..models.types import utcnow
from ..rules.lti import NRPS_SCOPE, ClaimProblem, roster_learners
from .provision import PROTECTED_ROLES, enrol, link_or_create
from .services import ServiceError, access_token, memberships


class RosterError(ValueError):
    """The roster could not be synced; nothing was changed."""


@dataclass
class RosterReport:
    new: list[User] = field(default_factory=list)
    returning: list[User] = field(default_factory=list)
    left: list[User] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def sync_roster(actor: Actor, link: LtiResourceLink) -> RosterReport:
    """Fetch the LMS course's members, then enrol its learners (flushes and audits; the view commits)."""
    if link.offering_id is None:
        raise RosterError("Connect the link to an offering first.")
    if not link.memberships_url:
        raise RosterError(
            "The LMS has not offered its roster service for this link (launch it once with the service on)."
        )
    platform = link.platform
    try:
        token = access_token(platform, [NRPS_SCOPE])
        members = roster_learners(memberships(platform, link.memberships_url, token))
    except ServiceError as exc:
        raise RosterError(f"The roster could not be read: {exc}.") from None
    begin_write()
    serialize_writers(f"imh:lti-roster:{link.id}")
    report = RosterReport()
    for member in members:
        try:
            user, _created = link_or_create(platform, member.sub, member.name, member.email, learner=True)
        except ClaimProblem as problem:
            report.skipped.append(f"{member.name or member.sub}: {problem.reason}")
            continue
        if user.role_set & PROTECTED_ROLES or not user.is_enabled or user.erased_dt is not None:
            report.skipped.append(f"{user.full_name}: not an account the LMS may enrol")
            continue
        (report.new if enrol(user, link.offering_id) else report.returning).append(user)
    present = {m.sub for m in members}
    enrolled_here = select(Enrolment.user_id).where(Enrolment.offering_id == link.offering_id)
    for person in db.session.scalars(
        select(LtiUserLink).where(
            LtiUserLink.issuer == platform.issuer, LtiUserLink.user_id.in_(enrolled_here)
        )
    ):
        if person.sub not in present:
            report.left.append(person.user)
    link.roster_synced_dt = utcnow()
    record_event(
        actor, "lti.roster_sync", "lti_resource_link", link.id, offering_id=link.offering_id,
        after={"new": len(report.new), "returning": len(report.returning), "left": len(report.left),
               "skipped": len(report.skipped)},
    )  # fmt: skip
    return report


def roster_links(offering_id: int) -> list[LtiResourceLink]:
    """The offering's LMS links that offered their roster: one per LMS course (the latest launched)."""
    links = db.session.scalars(
        select(LtiResourceLink)
        .where(LtiResourceLink.offering_id == offering_id, LtiResourceLink.memberships_url.is_not(None))
        .order_by(LtiResourceLink.id.desc())
    )
    seen: dict[tuple[int, str], LtiResourceLink] = {}
    for link in links:
        seen.setdefault((link.platform_id, link.memberships_url or ""), link)
    return sorted(seen.values(), key=lambda link: link.id)


def sync_offering(actor: Actor, offering_id: int) -> RosterReport:
    """Sync every LMS course linked to the offering (the coordinator's button): one report.

    Each LMS course is synced (and audited) as by the admin's button; someone enrolled through one
    LMS course is not "left" because another linked course does not list them.
    """
    links = roster_links(offering_id)
    if not links:
        raise RosterError(
            "No LMS link of this offering has offered its roster yet: turn on Names and Role "
            "Provisioning for the tool in the LMS and launch the link once."
        )
    reports = [sync_roster(actor, link) for link in links]
    merged = RosterReport()
    here: set[int] = set()
    for report in reports:
        for target, people in ((merged.new, report.new), (merged.returning, report.returning)):
            for user in people:
                if user.id not in here:
                    here.add(user.id)
                    target.append(user)
        merged.skipped.extend(report.skipped)
    gone: set[int] = set()
    for report in reports:
        for user in report.left:
            if user.id not in here and user.id not in gone:
                gone.add(user.id)
                merged.left.append(user)
    return merged
