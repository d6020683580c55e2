"""Delivery: from a saved session to the relay's answer for every student.

    queueing.py     job names, ids, priorities and enqueueing (the only place that talks to RQ)
    jobs.py         the RQ jobs: generate_notifications, send_notifications, sweep, send_account_email,
                    read_bounces (portal.bounces)
    sending.py      a send job's work: claim rows, send them over many connections, record answers
    batch.py        the emails of one send job, shared by its threads
    connections.py  relay connections kept open between jobs in a worker
    smtp.py         one SMTP connection: verified TLS, timeouts, one login, what a reply means
    messages.py     the attendance email, built by the standard library
    relays.py       the relays sent through (MAIL_RELAYS_FILE, or the MAIL_* variables), each by name
    lanes.py        one relay as a send job uses it: its limits, connections and pause
    oauth.py        OAuth 2.0 access tokens for XOAUTH2 sign-in, shared through Redis
    pacing.py       limits shared by all workers, per relay: connection cap, rate and daily limits, pace
    pause.py        pausing delivery through a relay, and probing it
    control.py      pausing and resuming by hand (admin page, command line) and the state people see
    backlog.py      the emails waiting, and when a session's last should leave (the queue played forward)
    outcomes.py     writing each answer and the email's history
    sweep.py        nothing stays waiting, pending or sending forever; retries when due; resume
    upkeep.py       what every worker does each second beside its jobs
"""
