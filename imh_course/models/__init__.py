"""All tables, one module per aggregate; importing this registers them with the metadata."""

from . import content_revision  # noqa: F401 (not a table: the listener keeping content revisions)
from .accounts import AccountToken, LearnerProfile, TokenPurpose, User, UserRole
from .attendance import AttendanceEvidence, AttendanceMethod, AttendanceRecord, CheckInWindow, EvidenceKind
from .audit import AuditEvent
from .certificates import Attestation, Certificate, CertificateStatus, EvaluationAnswer, EvaluationReceipt
from .credentials import BadgeCredential, SigningKey
from .curriculum import Course, CourseSession, Exercise, Quiz, QuizQuestion, Reading
from .lti import (
    LtiDeployment,
    LtiLineItem,
    LtiNonce,
    LtiPlatform,
    LtiResourceLink,
    LtiScore,
    LtiToolKey,
    LtiUserLink,
    ScoreStatus,
)
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
from .participant_reports import ParticipantAlias, ParticipantImport, ReportFile
from .progress import (
    ExerciseResponse,
    ExerciseResponseRevision,
    ReadingCompletion,
    ResponseFeedback,
    ResponseStatus,
)
from .quizzes import QuizAttempt
from .xapi import XapiStatement, XapiStatus

__all__ = [
    "XapiStatement",
    "XapiStatus",
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
    "LtiDeployment",
    "LtiLineItem",
    "LtiScore",
    "ScoreStatus",
    "LtiNonce",
    "LtiPlatform",
    "LtiResourceLink",
    "LtiToolKey",
    "LtiUserLink",
    "Meeting",
    "Offering",
    "OutboxMessage",
    "OutboxStatus",
    "ParticipantAlias",
    "ParticipantImport",
    "ReportFile",
    "Quiz",
    "QuizQuestion",
    "Reading",
    "Term",
    "User",
    "UserRole",
]
