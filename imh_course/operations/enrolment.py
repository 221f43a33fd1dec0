"""Enrolling learners (one by one or from a roster CSV), funding, withdrawal and invitations.

A new learner gets an account without a password and a single-use invitation link (the raw secret
is returned once, for the coordinator to send; only its hash is stored). Enrolling someone who is
already enrolled changes nothing, so importing the same roster twice duplicates nothing. A roster
is checked completely first (:mod:`.roster_csv`) and imported all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..database import begin_write, serialize_writers
from ..extensions import db
from ..mail.notify import queue_invitation
from ..models.accounts import TokenPurpose, User
from ..models.audit_chain import Actor, record_event
from ..models.offerings import Enrolment, EnrolmentStatus, Funding, Offering
from ..rules.text import plural
from ..security.roles import Role
from .accounts import ProfileData, create_user, find_user
from .roster_csv import LearnerData, RosterLine, RowProblem, learner_problems, parse_roster
from .tokens import issue_token

MAX_REASON_CHARS = 500

__all__ = [
    "EnrolmentError",
    "EnrolResult",
    "ImportReport",
    "LearnerData",
    "RosterInvalid",
    "enrol_learner",
    "import_roster",
    "new_invitation",
    "reinstate",
    "set_funding",
    "withdraw",
]


class EnrolmentError(ValueError):
    """A clear reason an enrolment change was refused (nothing was written)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RosterInvalid(EnrolmentError):
    """The roster has problems; nothing was imported. ``problems`` lists every one, by line."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"The roster has {plural(len(problems), 'problem')}; nothing was imported.")
        self.problems = problems


@dataclass(frozen=True)
class EnrolResult:
    enrolment: Enrolment
    user: User
    created_account: bool
    created_enrolment: bool
    #: the raw invitation secret for a new account (shown once), else None
    invite_token: str | None = None


@dataclass
class ImportReport:
    results: list[EnrolResult] = field(default_factory=list)

    @property
    def enrolled(self) -> int:
        return sum(1 for r in self.results if r.created_enrolment)

    @property
    def new_accounts(self) -> int:
        return sum(1 for r in self.results if r.created_account)

    @property
    def already_enrolled(self) -> int:
        return sum(1 for r in self.results if not r.created_enrolment)

    @property
    def invitations(self) -> list[EnrolResult]:
        return [r for r in self.results if r.invite_token]


def _account_problem(user: User) -> str | None:
    if not user.is_enabled:
        return f"The account for {user.email} is deactivated; ask an admin."
    if not user.has_role(Role.LEARNER):
        return f"{user.email} belongs to an account without the learner role; ask an admin to add it."
    return None


def _invite(actor: Actor, user: User, offering: Offering | None = None) -> str:
    """A fresh invitation token, its audit event and the invitation email (same transaction)."""
    raw = issue_token(user, TokenPurpose.INVITE)
    record_event(actor, "account.invite", "user", user.id, learner_id=user.id, after={"purpose": "invite"})
    queue_invitation(user, raw, offering)
    return raw


def enrol_learner(actor: Actor, offering: Offering, data: LearnerData) -> EnrolResult:
    """Enrol one learner, creating the account (with an invitation) if the email is new.

    An existing account keeps its profile (the learner owns it); an existing enrolment is returned
    unchanged, whatever its status.
    """
    begin_write()
    problems = learner_problems(data)
    if problems:
        name, message = problems[0]
        raise EnrolmentError(message, name)
    serialize_writers("imh:accounts")  # find-or-create the account without racing another request
    user = find_user(data.email)
    created_account = invite = None
    if user is None:
        user = create_user(
            actor,
            email=data.email,
            full_name=data.name,
            roles=[Role.LEARNER],
            profile=ProfileData(
                certificate_name=data.name,
                discipline=data.discipline,
                license_type=data.license_type,
                license_number=data.license_number,
            ),
        )
        created_account, invite = True, _invite(actor, user, offering)
    else:
        problem = _account_problem(user)
        if problem:
            raise EnrolmentError(problem, "email")
    query = select(Enrolment).where(Enrolment.offering_id == offering.id, Enrolment.user_id == user.id)
    existing = db.session.scalar(query)
    if existing is not None:
        return EnrolResult(existing, user, bool(created_account), False, invite)
    enrolment = Enrolment(offering_id=offering.id, user_id=user.id, funding=data.funding)
    try:
        with db.session.begin_nested():
            db.session.add(enrolment)
    except IntegrityError:  # enrolled a moment ago by someone else
        return EnrolResult(db.session.scalar(query), user, bool(created_account), False, invite)
    record_event(
        actor,
        "enrolment.create",
        "enrolment",
        enrolment.id,
        offering_id=offering.id,
        learner_id=user.id,
        after={"funding": data.funding.value, "status": EnrolmentStatus.ACTIVE.value},
    )
    return EnrolResult(enrolment, user, bool(created_account), True, invite)


def _account_problems(lines: list[RosterLine]) -> list[RowProblem]:
    """Emails that belong to accounts which cannot be enrolled (one query for the whole file)."""
    emails = [line.data.email for line in lines]
    users = {
        u.email: u
        for u in db.session.scalars(
            select(User).where(User.email.in_(emails)).options(selectinload(User.roles))
        )
    }
    problems = []
    for line in lines:
        user = users.get(line.data.email)
        problem = _account_problem(user) if user is not None else None
        if problem:
            problems.append(RowProblem(line.line, problem))
    return problems


def check_roster(raw: bytes) -> tuple[list[RosterLine], list[RowProblem]]:
    """Every problem of the file and of the accounts it names, by line (writes nothing)."""
    lines, problems = parse_roster(raw)
    if not problems:
        problems = _account_problems(lines)
    return lines, problems


def import_roster(actor: Actor, offering: Offering, raw: bytes) -> ImportReport:
    """Validate the whole file, then enrol every line; raises :class:`RosterInvalid` (nothing written)."""
    begin_write()
    # Two imports of the same file (double click, two coordinators) take turns, so the second one
    # finds the accounts and enrolments of the first instead of colliding with them.
    serialize_writers("imh:accounts")
    lines, problems = check_roster(raw)
    if problems:
        raise RosterInvalid(problems)
    report = ImportReport()
    for line in lines:
        report.results.append(enrol_learner(actor, offering, line.data))
    record_event(
        actor,
        "enrolment.import",
        "offering",
        offering.id,
        offering_id=offering.id,
        after={"lines": len(lines), "enrolled": report.enrolled, "new_accounts": report.new_accounts},
    )
    return report


def _reason(reason: str | None, action: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise EnrolmentError(f"Give a reason to {action} the enrolment.", "reason")
    if len(text) > MAX_REASON_CHARS:
        raise EnrolmentError(f"Please keep the reason under {MAX_REASON_CHARS} characters.", "reason")
    return text


def set_funding(actor: Actor, enrolment: Enrolment, funding: Funding) -> bool:
    begin_write()
    if enrolment.funding is funding:
        return False
    before = {"funding": enrolment.funding.value}
    enrolment.funding = funding
    db.session.flush()
    record_event(
        actor,
        "enrolment.funding",
        "enrolment",
        enrolment.id,
        offering_id=enrolment.offering_id,
        learner_id=enrolment.user_id,
        before=before,
        after={"funding": funding.value},
    )
    return True


def _set_status(
    actor: Actor, enrolment: Enrolment, status: EnrolmentStatus, action: str, reason: str
) -> None:
    before = {"status": enrolment.status.value}
    enrolment.status = status
    db.session.flush()
    record_event(
        actor,
        action,
        "enrolment",
        enrolment.id,
        offering_id=enrolment.offering_id,
        learner_id=enrolment.user_id,
        before=before,
        after={"status": status.value},
        reason=reason,
    )


def withdraw(actor: Actor, enrolment: Enrolment, reason: str | None) -> None:
    """Withdraw (read-only from then on); the learner's records stay. A reason is required."""
    begin_write()
    text = _reason(reason, "withdraw")
    if enrolment.status is EnrolmentStatus.WITHDRAWN:
        raise EnrolmentError("This enrolment is already withdrawn.")
    _set_status(actor, enrolment, EnrolmentStatus.WITHDRAWN, "enrolment.withdraw", text)


def reinstate(actor: Actor, enrolment: Enrolment, reason: str | None) -> None:
    """Undo a withdrawal (a reason is required)."""
    begin_write()
    text = _reason(reason, "reinstate")
    if enrolment.status is not EnrolmentStatus.WITHDRAWN:
        raise EnrolmentError("Only a withdrawn enrolment can be reinstated.")
    _set_status(actor, enrolment, EnrolmentStatus.ACTIVE, "enrolment.reinstate", text)


def new_invitation(actor: Actor, user: User) -> str:
    """A fresh invitation link for a learner who has not set a password yet."""
    begin_write()
    if user.erased_dt is not None or not user.is_enabled:
        raise EnrolmentError("This account cannot be invited.")
    if user.password_hash is not None:
        raise EnrolmentError(f"{user.full_name} has already set a password.")
    return _invite(actor, user)
