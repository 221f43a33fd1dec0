"""A learner's face-to-face ledger in each offering they are enrolled in, for their data export.

Each offering's total is labelled by the learner's CE standing (``rules.ce_standing``): CE contact
hours where an approval covers their licence, face-to-face clock hours (not CE) elsewhere — the
same decision and the same numbers as their dashboard and certificate. Three statements whatever
the number of offerings (meetings, approvals, attendance), so the export does not grow per enrolment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models.attendance import AttendanceRecord
from ..models.offerings import BoardApproval, Meeting
from ..records.ledgers import credit_for, credit_policy
from ..rules.ce_standing import ce_standing, face_to_face
from ..rules.licenses import Approval


def face_to_face_by_offering(
    user_id: int, license_type: str | None, offering_ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """offering id -> {label, ce, hours, scheduled_hours, ce_contact_hours (None unless CE), reason}."""
    ids = sorted(set(offering_ids))
    if not ids:
        return {}
    policy = credit_policy(current_app.config)
    meetings = db.session.scalars(select(Meeting).where(Meeting.offering_id.in_(ids))).all()
    approvals: dict[int, list[Approval]] = defaultdict(list)
    for a in db.session.scalars(select(BoardApproval).where(BoardApproval.offering_id.in_(ids))):
        approvals[a.offering_id].append(Approval(a.board, a.provider_number, a.statement))
    records = {
        r.meeting_id: r
        for r in db.session.scalars(
            select(AttendanceRecord)
            .join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
            .where(AttendanceRecord.user_id == user_id, Meeting.offering_id.in_(ids))
        )
    }
    totals: dict[int, list[int]] = {oid: [0, 0, 0, 0] for oid in ids}  # credited, attended, sched CE, sched
    for meeting in meetings:
        attended, credited = credit_for(meeting, records.get(meeting.id), policy)
        mine = totals[meeting.offering_id]
        mine[0] += credited
        mine[1] += attended
        mine[2] += meeting.length_minutes if meeting.is_ce_eligible else 0
        mine[3] += meeting.length_minutes
    out = {}
    for oid, (credited, attended, scheduled_ce, scheduled) in totals.items():
        standing = ce_standing(license_type, approvals[oid])
        f2f = face_to_face(
            standing,
            credited_minutes=credited,
            attended_minutes=attended,
            scheduled_ce_minutes=scheduled_ce,
            scheduled_minutes=scheduled,
            policy=policy,
        )
        out[oid] = {
            "label": standing.label,
            "ce": standing.certifiable,
            "hours": f2f.hours_text,
            "scheduled_hours": f2f.scheduled_text,
            "ce_contact_hours": f2f.hours_text if standing.certifiable else None,
            "reason": standing.reason,
        }
    return out
