"""All tables, one module per aggregate; importing this registers them with the metadata."""

from .accounts import LearnerProfile, User, UserRole
from .attendance import AttendanceMethod, AttendanceRecord
from .audit import AuditEvent
from .curriculum import Course, CourseSession, Exercise, Quiz, QuizQuestion, Reading
from .offerings import (
    BoardApproval,
    DeliveryFormat,
    Enrolment,
    EnrolmentStatus,
    Funding,
    InstructorAssignment,
    Meeting,
    Offering,
    Term,
)

__all__ = [
    "AttendanceMethod",
    "AttendanceRecord",
    "AuditEvent",
    "BoardApproval",
    "Course",
    "CourseSession",
    "DeliveryFormat",
    "Enrolment",
    "EnrolmentStatus",
    "Exercise",
    "Funding",
    "InstructorAssignment",
    "LearnerProfile",
    "Meeting",
    "Offering",
    "Quiz",
    "QuizQuestion",
    "Reading",
    "Term",
    "User",
    "UserRole",
]
