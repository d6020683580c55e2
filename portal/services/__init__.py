"""The seed's three services, whose names, return shapes and exceptions are the contract
(docs: ../shared/seed/services_guide.md; Django and Celery there, Flask-Mail and RQ here).

    jwt_service.py                      JWTTokenService: the signed token inside every attendance link
    email_sender_service.py             EmailSenderService: build and send the emails over SMTP
    notification_generation_service.py  NotificationGenerationService: one notification per eligible student

Everything else lives next to the feature it serves:

    portal/sessions/     creating (planning.py), changing and cancelling (changes.py) a session
    portal/attendance/   the student's link: checking it and recording attendance (confirmation.py), the position check (position.py)
    portal/register/     statuses, hand marks, reviews, reports, the course register
    portal/students/     import, sync, an admin's edits, card codes
    portal/staff/        staff accounts and passwords
    portal/catalog/      programs, streams, courses
    portal/audit/        the audit trail
    portal/delivery/     from a saved session to the relay's answer: jobs, sending, pacing, pause
    portal/repositories/ the queries the services share
"""
