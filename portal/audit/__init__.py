"""The audit trail: who did what, and when, to the portal's data.

    trail.py   `record` (in the same transaction as the change), `record_now` (for a change
               outside the database, such as a pause in Redis), the page of events, ACTIONS

The page that lists them is the admin blueprint's `/admin/audit` (portal/admin/audit_log.py).
"""
from portal.audit.trail import ACTIONS, THE_PORTAL, actors, page, record, record_now, session_label

__all__ = ["ACTIONS", "THE_PORTAL", "actors", "page", "record", "record_now", "session_label"]
