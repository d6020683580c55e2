"""Students: who they are, how they arrive and change, and their cards.

    importing.py    the CSV import: every row checked, all saved or none
    sync.py         the import's sync mode: a preview of every change, applied when confirmed
    editing.py      an admin's edit of one student (deactivation ends their links)
    card_codes.py   what a student card's QR code holds, scans checked against it, reissuing

Pages: the admin blueprint's /admin/students, /admin/import and /admin/cards
(portal/admin/students.py, imports.py, routes.py); command: `import-students`.
"""
