"""A learner's erasure request: pseudonymise the person, keep the minimal CE record.

What changes: email → ``erased-<id>@invalid``; account and certificate name → ``Erased learner
<id>``; discipline and license number cleared; password hash cleared, session token rotated (every
signed-in copy is signed out), the account disabled and unused invitation/reset links spent;
the text of their exercise responses (and its revision history) blanked. ``erased_dt`` is set.

What stays, by law and by design (records are kept at least six years, never hard-deleted):
attendance records and their evidence, credit, quiz results, completion flags, certificates with
their frozen facts and PDF (so a board audit can still be answered and verification still works),
and the audit trail, which is append-only and tamper-evident and so cannot be rewritten.
"""

from __future__ import annotations

from sqlalchemy import select, update

from ..database import begin_write
from ..extensions import db
from ..models.accounts import AccountToken, User
from ..models.audit_chain import Actor, record_event
from ..models.progress import ExerciseResponse, ExerciseResponseRevision
from ..models.types import utcnow
from ..security.roles import Role

MAX_REASON_CHARS = 1_000


class ErasureError(ValueError):
    """A clear reason the erasure was refused (nothing was written)."""


def pseudonym(user_id: int) -> str:
    return f"Erased learner {user_id}"


def erase_learner(actor: Actor, user: User, reason: str | None) -> None:
    """Pseudonymise ``user`` (a learner) in the caller's transaction; audited with the reason."""
    begin_write()
    text = (reason or "").strip()
    if not text:
        raise ErasureError(
            "Give the reason for the erasure (for example, the date of the learner's request)."
        )
    if len(text) > MAX_REASON_CHARS:
        raise ErasureError(f"Please keep the reason under {MAX_REASON_CHARS:,} characters.")
    if user.erased_dt is not None:
        raise ErasureError("This learner's profile has already been erased.")
    if user.role_set - {Role.LEARNER}:
        raise ErasureError("This account also has staff roles; an admin must remove them before an erasure.")
    if actor.user is not None and actor.user.id == user.id:
        raise ErasureError("You cannot erase your own account here.")
    now = utcnow()
    name = pseudonym(user.id)
    user.email = f"erased-{user.id}@invalid"
    user.full_name = name
    user.password_hash = None
    user.is_enabled = False
    user.rotate_session_token()
    user.erased_dt = now
    if user.profile is not None:
        user.profile.certificate_name = name
        user.profile.discipline = None
        user.profile.license_number = None
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_dt.is_(None))
        .values(used_dt=now)
        .execution_options(synchronize_session=False)
    )
    response_ids = list(
        db.session.scalars(select(ExerciseResponse.id).where(ExerciseResponse.user_id == user.id))
    )
    if response_ids:
        db.session.execute(
            update(ExerciseResponse)
            .where(ExerciseResponse.id.in_(response_ids))
            .values(body="", body_html="")
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(ExerciseResponseRevision)
            .where(ExerciseResponseRevision.response_id.in_(response_ids))
            .values(body="")
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    record_event(
        actor,
        "learner.erase",
        "user",
        user.id,
        learner_id=user.id,
        before={"erased": False},
        after={"erased": True, "erased_dt": now.isoformat(), "responses_blanked": len(response_ids)},
        reason=text,
    )
