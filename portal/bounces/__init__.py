"""Late bounces: mail a relay accepted and the student's mail server later returned.

Each email leaves with its own return path (MAIL_RETURN_PATH, `bounces+{token}@…`: `verp`),
so the report that comes back names the email without trusting anything else in it. The
worker reads the bounce mailbox over IMAP (`mailbox`) every BOUNCE_POLL_SECONDS, tells
reports from other mail with flufl.bounce (`reports`) and records them (`reading`): a
permanent failure makes the email `bounced` and flags the student's address until it is
changed; a temporary one is kept in the email's history only.
"""
