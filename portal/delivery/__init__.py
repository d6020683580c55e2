"""Delivery: from a saved session to an answer from the mail relay for every student.

    queueing.py   job names, ids and enqueueing (the only place that talks to RQ)
    jobs.py       the RQ jobs: generate_notifications, send_notifications, sweep
    sending.py    a send job's work: claim rows, send them, record every outcome
    smtp.py       one SMTP connection: verified TLS, timeouts, and what a reply means
    sweep.py      nothing stays waiting, pending or sending forever
"""
