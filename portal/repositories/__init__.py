"""Thin data access: queries and writes, no business rules, never a commit (the services
own the transaction; tests/test_data_rule.py checks).

    email_repository.py           notifications: claiming, outcomes, counts, search, history
    session_repository.py         sessions: pages, series, what is due, who teaches a course
    student_profile_repository.py who is eligible, the student directory
    attendance_repository.py      a session's roster, records and marks
    register_repository.py        the course register's three queries
    catalog_repository.py         programs and courses as pages and forms list them
    pending_import_repository.py  sync previews waiting for confirmation
    user_repository.py            accounts by email, staff by name
    audit_repository.py           the audit trail's events (portal.audit writes and reads through it)
    metrics_repository.py         the grouped counts /metrics reports
    bounce_repository.py          bounce reports, bouncing addresses, the bounce mailbox's place
    lookups.py                    one row by id; get_or_404 for the row a page names
"""
from portal.repositories.bounce_repository import BounceRepository
from portal.repositories.catalog_repository import CatalogRepository
from portal.repositories.email_repository import EmailNotificationRepository
from portal.repositories.lookups import get, get_or_404
from portal.repositories.pending_import_repository import PendingImportRepository
from portal.repositories.session_repository import SessionRepository
from portal.repositories.student_profile_repository import StudentProfileRepository
from portal.repositories.user_repository import UserRepository

__all__ = ["BounceRepository", "CatalogRepository", "EmailNotificationRepository", "PendingImportRepository", "SessionRepository",
           "StudentProfileRepository", "UserRepository", "get", "get_or_404"]
