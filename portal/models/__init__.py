"""The portal's tables; import models from here."""
from portal.models.academic import Course, Program, Stream, TeachingAssignment
from portal.models.attendance import AttendanceMark, AttendanceRecord, AttendanceStatus, CardCheck, Review
from portal.models.audit import AuditEvent, PendingImport
from portal.models.notifications import (
    EMAIL_STATUSES,
    BounceMailbox,
    DeliveryAttempt,
    EmailKind,
    EmailNotification,
    NotificationStatus,
)
from portal.models.sessions import AttendanceSession, GenerationStatus
from portal.models.users import Role, StudentProfile, User

__all__ = [
    "EMAIL_STATUSES",
    "AttendanceMark",
    "AttendanceRecord",
    "AttendanceSession",
    "AttendanceStatus",
    "AuditEvent",
    "BounceMailbox",
    "CardCheck",
    "Course",
    "DeliveryAttempt",
    "EmailKind",
    "EmailNotification",
    "GenerationStatus",
    "NotificationStatus",
    "PendingImport",
    "Program",
    "Review",
    "Role",
    "Stream",
    "StudentProfile",
    "TeachingAssignment",
    "User",
]
