"""GET /metrics (issue 27): Prometheus text behind a bearer token, its numbers read from the
database (and the few Redis keeps) at scrape time, parsed with prometheus_client's own parser."""
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from portal.database import utcnow
from portal.exceptions import ConfigurationError
from portal.extensions import db
from portal.models import AttendanceRecord, DeliveryAttempt, EmailNotification
from tests.factories import create_session, link_for, make_notification, make_session, make_students

TOKEN = "a-metrics-token-long-enough-for-the-check-0123456789"


def scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})


def samples(response) -> dict[tuple, float]:
    """{(sample name, ((label, value), ...)): value} of a scrape, as Prometheus reads it."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_no_token_configured_means_no_endpoint(client):
    assert client.get("/metrics").status_code == 404
    assert scrape(client).status_code == 404


def test_the_token_is_required_and_checked(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert scrape(client, "wrong-" + TOKEN).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    good = scrape(client)
    assert good.status_code == 200 and good.mimetype == "text/plain" and "version=" in good.content_type


def test_a_short_token_is_refused_at_start_up(app_config):
    from portal import create_app

    with pytest.raises(ConfigurationError, match="METRICS_TOKEN must be at least 32 characters"):
        create_app({**app_config, "METRICS_TOKEN": "short"})


def test_the_numbers_match_the_database(app, client, people):
    app.config["METRICS_TOKEN"] = TOKEN
    session = people["own_session"]
    students = make_students(session.program, 6)
    now = utcnow()
    for student, status, relay, outcome in [(students[0], "sent", "default", "sent"),
                                            (students[1], "sent", "default", "sent"),
                                            (students[2], "failed", "default", "permanent"),
                                            (students[3], "pending", "default", "throttled"),
                                            (students[4], "pending", None, None)]:
        row = make_notification(session, student, status=status)
        row.last_relay = relay  # as the delivery writer keeps it with each try
        if outcome:
            db.session.add(DeliveryAttempt(notification_id=row.id, attempted_at=now, outcome=outcome, relay=relay))
    db.session.commit()
    open_session = make_session(people["course"], starts_in=timedelta(minutes=-1))
    for student, uncertain in ((students[0], False), (students[1], True), (students[2], False)):
        db.session.add(AttendanceRecord(session_id=open_session.id, student_profile_id=student.id, recorded_at=now,
                                        position_uncertain=uncertain))
    db.session.commit()

    found = samples(scrape(client))
    assert found[("portal_emails", (("relay", "default"), ("status", "sent")))] == 2
    assert found[("portal_emails", (("relay", "default"), ("status", "failed")))] == 1
    assert found[("portal_emails", (("relay", "default"), ("status", "pending")))] == 1
    assert found[("portal_emails", (("relay", ""), ("status", "pending")))] == 1
    total = sum(value for (name, _), value in found.items() if name == "portal_emails")
    assert total == db.session.scalar(select(func.count()).select_from(EmailNotification))
    assert found[("portal_relay_replies_total", (("outcome", "sent"), ("relay", "default")))] == 2
    assert found[("portal_relay_throttles_total", (("relay", "default"),))] == 1
    assert found[("portal_confirmations_total", (("outcome", "recorded"),))] == 2
    assert found[("portal_confirmations_total", (("outcome", "uncertain"),))] == 1
    assert found[("portal_oldest_waiting_email_age_seconds", ())] >= 0
    assert found[("portal_queue_reachable", ())] == 1
    assert found[("portal_relay_paused", (("relay", "default"),))] == 0


def test_the_delivery_writer_keeps_each_emails_latest_relay(people):
    """What `portal_emails` counts by relay: the writer keeps the relay of each email's latest try
    with its history (a try that reached no relay leaves none; an answer without a try keeps it)."""
    from portal.delivery.outcomes import Attempt, OutcomeWriter

    row = make_notification(people["own_session"], make_students(people["course"].program, 1)[0], status="sending")
    row.message_id = "<latest-relay@example.edu>"
    db.session.commit()

    def answer(status, attempt):
        with OutcomeWriter.open() as writer:
            writer.record(row.id, row.message_id, status, None, utcnow(), attempt=attempt)
        db.session.execute(EmailNotification.__table__.update().where(EmailNotification.id == row.id)
                           .values(status="sending"))  # claimed again
        db.session.commit()
        db.session.expire_all()
        return db.session.get(EmailNotification, row.id).last_relay

    assert answer("pending", Attempt("throttled", 421, "slow down", "campus")) == "campus"
    assert answer("pending", Attempt("sent", 250, "OK", "backup")) == "backup"
    assert answer("pending", None) == "backup"  # given back unsent (a paused relay, say): no try
    assert answer("failed", Attempt("error", None, "the message could not be built")) is None


def test_refusals_and_pauses_are_counted_across_requests(app, client, auth, people):
    app.config["METRICS_TOKEN"] = TOKEN
    session = make_session(people["course"], starts_in=timedelta(minutes=-1), latitude=-1.28, longitude=36.81,
                           lecturer=people["lecturer"])
    token = link_for(app, session, make_students(people["course"].program, 1)[0])
    for _ in range(2):
        client.post("/attendance", data={"token": token, "latitude": "-1.0", "longitude": "36.81", "accuracy": "5"})
    client.post("/attendance", data={"token": token})  # no position at all
    auth.login("admin@example.edu")
    client.post("/admin/queue/pause", data={"reason": "maintenance"})
    found = samples(scrape(client))
    assert found[("portal_confirmations_total", (("outcome", "too_far"),))] == 2
    assert found[("portal_confirmations_total", (("outcome", "details_missing"),))] == 1
    assert found[("portal_relay_paused", (("relay", "default"),))] == 1
    assert found[("portal_relay_pauses_total", (("relay", "default"),))] == 1


@pytest.mark.integration
def test_after_a_real_session_the_numbers_match_what_the_relay_saw(app, course, run_worker, smtp_server, client):
    """Sent and refused emails through a real worker and SMTP server."""
    app.config["METRICS_TOKEN"] = TOKEN
    smtp_server.handler.refuse = ("refuse",)
    make_students(course.program, 4)
    make_students(course.program, 2, email_for=lambda n: f"refuse-{n}@example.edu", prefix="R")
    create_session(course)
    run_worker()
    found = samples(scrape(client))
    assert found[("portal_emails", (("relay", "default"), ("status", "sent")))] == len(smtp_server.handler.received) == 4
    assert found[("portal_emails", (("relay", "default"), ("status", "failed")))] == 2
    assert found[("portal_relay_replies_total", (("outcome", "permanent"), ("relay", "default")))] == 2
    assert found[("portal_workers", ())] >= 0
