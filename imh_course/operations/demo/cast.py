"""Who the demo is: its accounts (roles, licences, funding) and the board approvals it carries.

``DEMO_ACCOUNTS`` are the five of ``ensure_demo`` (the cohort the tests share); the story adds the
two ``STORY_LEARNERS``, last term's ``GRADUATE`` and an ``ADMIN``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...models.offerings import Funding
from ...rules.licenses import Board
from ...security.roles import Role
from ..accounts import ProfileData


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: Role
    profile: ProfileData | None = None
    funding: Funding = Funding.FULL_FEE


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("coordinator@example.org", "Casey Coordinator", Role.COORDINATOR),
    DemoAccount("instructor@example.org", "Indira Instructor", Role.INSTRUCTOR),
    DemoAccount(
        "lcsw@example.org",
        "Lena Social-Worker",
        Role.LEARNER,
        ProfileData("Lena M. Social-Worker", "Social work", "LCSW", "012345", "NY"),
    ),
    DemoAccount(
        "lmhc@example.org",
        "Marco Counselor",
        Role.LEARNER,
        ProfileData("Marco A. Counselor", "Mental health counseling", "LMHC", "004321", "NY"),
        Funding.GRANT_FUNDED,
    ),
    DemoAccount(
        "nurse@example.org",
        "Nia Nurse",
        Role.LEARNER,
        ProfileData("Nia Nurse", "Nursing", "RN", None, "NY"),
        Funding.SCHOLARSHIP,
    ),
)

DEMO_APPROVALS = (
    (
        Board.SOCIAL_WORK,
        "SW-0000",
        "{provider} is recognized by the New York State Education Department's State Board for Social Work "
        "as an approved provider of continuing education for licensed social workers #{number}. (Demo data.)",
    ),
    (
        Board.MENTAL_HEALTH,
        "MHC-0000",
        "{provider} is recognized by the New York State Education Department's State Board for Mental Health "
        "Practitioners as an approved provider of continuing education for licensed mental health counselors "
        "#{number}. (Demo data.)",
    ),
)

#: learners of the mid-term offering besides the three of ``DEMO_ACCOUNTS`` (one story each)
STORY_LEARNERS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "lmsw@example.org",
        "Eli Excused",
        Role.LEARNER,
        ProfileData("Eli J. Excused", "Social work", "LMSW", "067890", "NY"),
    ),
    DemoAccount(
        "lmft@example.org",
        "Sam Signin",
        Role.LEARNER,
        ProfileData("Sam R. Signin", "Marriage and family therapy", "LMFT", "009876", "NY"),
    ),
)
#: took the course last term: attended everything, evaluated, attested, holds a CE certificate
GRADUATE = DemoAccount(
    "graduate@example.org",
    "Grace Graduate",
    Role.LEARNER,
    ProfileData("Grace E. Graduate", "Social work", "LCSW", "054321", "NY"),
)
ADMIN = DemoAccount("admin@example.org", "Ada Admin", Role.ADMIN)
