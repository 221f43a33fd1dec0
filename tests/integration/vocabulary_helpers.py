"""The world of the every-surface CE vocabulary test, and readers for what each surface returns.

One offering holding only a social-work approval, all 11 meetings past, and one learner per licence
situation. Everyone arrived 20 minutes late at the meetings they attended, so each meeting credits
60 minutes but counts 70 clock minutes: a CE total (credited minutes) and a face-to-face clock total
(attended minutes) are different numbers, and a page showing the wrong one is caught.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import Course, CourseSession, Enrolment, Meeting, QuizAttempt
from imh_course.models.audit_chain import Actor
from imh_course.models.offerings import DeliveryFormat, Funding, Term
from imh_course.operations.offerings import ApprovalData, OfferingData, create_offering
from imh_course.rules.licenses import Board
from tests.integration.certificate_helpers import pdf_text
from tests.integration.coordinator_helpers import give_records

LATE = 20  # minutes late at every attended meeting: 70 attended, 60 credited


@dataclass(frozen=True)
class Situation:
    """A learner in one licence situation, and what their face-to-face ledger must say."""

    key: str
    email: str
    license_type: str | None
    license_number: str | None
    attended: int
    certifiable: bool

    @property
    def ce_hours(self) -> str:
        return f"{self.attended * 60 / 60:.2f}"  # 60 credited minutes per meeting, 60 per CE hour

    @property
    def clock_hours(self) -> str:
        return f"{self.attended * 70 * 100 // 60 / 100:.2f}"  # 70 minutes per meeting, rounded down

    @property
    def name(self) -> str:
        return f"Vocab {self.key.replace('_', ' ').title()}"


SITUATIONS = (
    Situation("certifiable", "v-lcsw@example.org", "LCSW", "012345", 10, True),
    Situation("nurse", "v-rn@example.org", "RN", None, 11, False),
    Situation("lcat_not_covered", "v-lcat@example.org", "LCAT", "054321", 11, False),
    Situation("no_license", "v-none@example.org", "None", None, 11, False),
    Situation("zero_credited", "v-zero@example.org", "LCSW", "011111", 0, True),
)
COORDINATOR = "v-coordinator@example.org"


def build_offering(instructor_id: int) -> int:
    """An offering approved by the social work board only, 11 weekly meetings all past."""
    course = db.session.scalar(select(Course).order_by(Course.id).limit(1))
    statement = "Test Provider is recognized by NYSED's State Board for Social Work #SW-0057."
    offering = create_offering(
        Actor.system(),
        course,
        OfferingData(
            term=Term.SPRING,
            year=2031,
            format=DeliveryFormat.IN_PERSON,
            location="Room 3",
            timezone="America/New_York",
            approvals=(ApprovalData(Board.SOCIAL_WORK, "SW-0057", statement),),
            instructor_ids=(instructor_id,),
        ),
    )
    sessions = db.session.scalars(
        select(CourseSession).where(CourseSession.course_id == course.id).order_by(CourseSession.number)
    ).all()
    first = date.today() - timedelta(weeks=14)
    zone = ZoneInfo("America/New_York")
    for week, session in enumerate(sessions):
        start = datetime.combine(first + timedelta(weeks=week), time(12), tzinfo=zone).astimezone(
            ZoneInfo("UTC")
        )
        db.session.add(
            Meeting(
                offering_id=offering.id,
                session_id=session.id,
                start_dt=start,
                end_dt=start + timedelta(minutes=90),
            )
        )
    db.session.commit()
    return offering.id


def enrol(offering_id: int, user_id: int, situation: Situation) -> None:
    db.session.add(Enrolment(offering_id=offering_id, user_id=user_id, funding=Funding.FULL_FEE))
    db.session.commit()
    give_records(
        offering_id, user_id, attended=situation.attended, late_minutes=LATE, attest=situation.attended > 0
    )


def first_attempt(user_id: int) -> int:
    return db.session.scalar(select(QuizAttempt.id).where(QuizAttempt.user_id == user_id).limit(1))


# --- reading what a surface returned -----------------------------------------------------------------
def page_text(markup: str) -> str:
    """The visible text of an HTML page, one line per element, entities decoded."""
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", markup)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", markup))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet's cells as strings (shared strings resolved), row by row."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            root = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))  # noqa: S314 - our own export
            shared = [
                "".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t")) for si in root.findall("m:si", ns)
            ]
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))  # noqa: S314 - our own export
    rows = []
    for row in sheet.iter(f"{{{ns['m']}}}row"):
        cells: dict[int, str] = {}
        for cell in row.findall("m:c", ns):
            column = re.match(r"[A-Z]+", cell.get("r", "A")).group()
            index = 0
            for ch in column:
                index = index * 26 + ord(ch) - 64
            value = cell.find("m:v", ns)
            inline = cell.find("m:is", ns)
            if cell.get("t") == "s" and value is not None:
                text = shared[int(value.text)]
            elif inline is not None:
                text = "".join(t.text or "" for t in inline.iter(f"{{{ns['m']}}}t"))
            else:
                text = value.text if value is not None else ""
            cells[index - 1] = text
        rows.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
    return rows


def table_rows(body: bytes, fmt: str) -> list[dict[str, str]]:
    """A CSV or XLSX export as one dict per line, keyed by the header."""
    rows = xlsx_rows(body) if fmt == "xlsx" else list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, *lines = rows
    return [dict(zip(header, line + [""] * (len(header) - len(line)), strict=True)) for line in lines]


def zip_pdf_texts(body: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {n: pdf_text(archive.read(n)) for n in archive.namelist() if n.endswith(".pdf")}


def as_json(body: bytes) -> dict:
    return json.loads(body)
