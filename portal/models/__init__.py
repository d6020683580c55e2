"""The portal's tables; import models from here."""
from portal.models.academic import Course, Program, Stream
from portal.models.attendance import AttendanceRecord, CardCheck, Review
from portal.models.notifications import DeliveryAttempt, EmailKind, EmailNotification, NotificationStatus
from portal.models.sessions import AttendanceSession, GenerationStatus
from portal.models.users import Role, StudentProfile, User

__all__ = [
    "AttendanceRecord",
    "AttendanceSession",
    "CardCheck",
    "Course",
    "DeliveryAttempt",
    "EmailKind",
    "EmailNotification",
    "GenerationStatus",
    "NotificationStatus",
    "Program",
    "Review",
    "Role",
    "Stream",
    "StudentProfile",
    "User",
]
