"""Thin data access: queries and writes, no business rules, never a commit."""
from portal.repositories.email_repository import EmailNotificationRepository
from portal.repositories.session_repository import SessionRepository
from portal.repositories.student_profile_repository import StudentProfileRepository

__all__ = ["EmailNotificationRepository", "SessionRepository", "StudentProfileRepository"]
