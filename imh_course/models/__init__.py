"""All tables, one module per aggregate; importing this registers them with the metadata."""

from .accounts import AccountToken, LearnerProfile, TokenPurpose, User, UserRole
from .attendance import AttendanceEvidence, AttendanceMethod, AttendanceRecord, CheckInWindow, EvidenceKind
from .audit import AuditEvent
from .certificates import Attestation, Certificate, CertificateStatus, EvaluationAnswer, EvaluationReceipt
from .credentials import BadgeCredential, SigningKey
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
from .outbox import OutboxMessage, OutboxStatus
from .progress import (
    ExerciseResponse,
    ExerciseResponseRevision,
    ReadingCompletion,
    ResponseFeedback,
    ResponseStatus,
)
from .quizzes import QuizAttempt

__all__ = [
    "BadgeCredential",
    "SigningKey",
    "AccountToken",
    "TokenPurpose",
    "Attestation",
    "AttendanceEvidence",
    "Certificate",
    "CertificateStatus",
    "CheckInWindow",
    "EvaluationAnswer",
    "EvaluationReceipt",
    "EvidenceKind",
    "ExerciseResponse",
    "ExerciseResponseRevision",
    "QuizAttempt",
    "ReadingCompletion",
    "ResponseFeedback",
    "ResponseStatus",
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
    "OutboxMessage",
    "OutboxStatus",
    "Quiz",
    "QuizQuestion",
    "Reading",
    "Term",
    "User",
    "UserRole",
]
