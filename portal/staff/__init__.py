"""Staff accounts (admins and lecturers).

    accounts.py   create accounts, set and change passwords, activate and deactivate

Signing in: portal/auth/ (sign_in.py checks the password; routes.py has /login and
/account). Pages: the admin blueprint's /admin/staff; commands: `create-user`, `set-password`.
"""
