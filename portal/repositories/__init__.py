"""Thin data access: queries and writes, no business rules, never a commit."""
from portal.repositories.catalog_repository import CatalogRepository
from portal.repositories.email_repository import EmailNotificationRepository
from portal.repositories.lookups import get, get_or_404
from portal.repositories.pending_import_repository import PendingImportRepository
from portal.repositories.session_repository import SessionRepository
from portal.repositories.student_profile_repository import StudentProfileRepository

__all__ = ["CatalogRepository", "EmailNotificationRepository", "PendingImportRepository", "SessionRepository",
           "StudentProfileRepository", "get", "get_or_404"]
