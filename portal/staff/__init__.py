"""Staff accounts (admins and lecturers).

    accounts.py        create accounts, set and change passwords, activate and deactivate
    password_links.py  the signed, single-use links of an invitation and a password reset
    account_emails.py  emailing those links (a job ahead of attendance mail)

Signing in: portal/auth/ (sign_in.py checks the password; routes.py has /login, /account
and /password/forgot, /password/reset). Pages: the admin blueprint's /admin/staff; commands:
`create-user`, `set-password`.
"""
