"""When the last email leaves: the relays' pace, the queue played forward earliest class first,
and what the lecturer is told before saving. (At a real paced relay: test_most_urgent_first.)"""
import math
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from portal.delivery import pause
from portal.delivery.backlog import Capacity, Work, backlog, forecast, play
from portal.delivery.pacing import busy_pace, record_sent
from portal.delivery.relays import Relay
from portal.extensions import db
from portal.models import AttendanceSession
from tests.factories import add_notifications, make_session, make_students


def test_the_relays_send_together_until_each_reaches_its_daily_cap():
    capacity = Capacity([(10.0, math.inf), (5.0, 30.0)])
    assert capacity.pace == 15.0
    assert capacity.seconds_for(100) == pytest.approx(7.0)  # 6 s at 15 a second, then 10 more at 10
    assert capacity.spend(6.0) == pytest.approx(90.0)
    assert capacity.pace == 10.0  # the capped relay has stopped
    assert Capacity([(5.0, 20.0)]).seconds_for(21) is None


def test_the_queue_is_played_earliest_deadline_first_as_emails_appear():
    nine, eight = datetime(2026, 12, 7, 9, tzinfo=timezone.utc), datetime(2026, 12, 7, 8, tzinfo=timezone.utc)
    finished = play([Work((nine, 1), 1, release=0.0, emails=100),
                     Work((eight, 2), 2, release=5.0, emails=50)], Capacity([(10.0, math.inf)])).finished
    # The 09:00 class sends 50 in 5 s; the 08:00 class, made then, goes first; then the rest.
    assert finished == {2: pytest.approx(10.0), 1: pytest.approx(15.0)}


def test_a_session_the_daily_cap_stops_has_no_time():
    soon = datetime(2026, 12, 7, 8, tzinfo=timezone.utc)
    finished = play([Work((soon, 1), 1, 0.0, 20), Work((soon, 2), 2, 0.0, 20)], Capacity([(10.0, 30.0)])).finished
    assert finished == {1: pytest.approx(2.0), 2: None}


def test_the_pace_is_measured_while_the_relay_had_work(app):
    redis, relay, now = app.extensions["redis"], Relay.of(app.config), int(time.time())
    assert busy_pace(redis, relay, now) is None  # never measured
    for second in range(now - 100, now - 92):  # 8 seconds at 40 a second (the first and last partly idle)
        record_sent(redis, relay, second, {now - 100: 7, now - 93: 12}.get(second, 40))
    for second in range(now - 60, now - 40, 2):  # then a slower spell: one every two seconds
        record_sent(redis, relay, second, 1)
    # Quiet minutes between the two are not counted as sending time.
    assert busy_pace(redis, relay, now) == pytest.approx((6 * 40 + 8) / (6 + 17))
    redis.delete(*redis.keys(relay.key("sent-seconds:*")))
    assert busy_pace(redis, relay, now) == pytest.approx((6 * 40 + 8) / (6 + 17))  # remembered


@pytest.fixture
def paced(app):
    """The relay sent 10 emails a second a minute ago."""
    redis, relay, now = app.extensions["redis"], Relay.of(app.config), int(time.time())
    for second in range(now - 70, now - 60):
        record_sent(redis, relay, second, 10)
    return relay


def done(session: AttendanceSession) -> AttendanceSession:
    session.generation_status = "done"
    db.session.commit()
    return session


def test_a_new_session_waits_only_behind_earlier_classes(app, course, paced):
    students = make_students(course.program, 100)
    earlier = done(make_session(course, starts_in=timedelta(minutes=30)))
    later = done(make_session(course, starts_in=timedelta(hours=3)))
    add_notifications(earlier, students[:60], status="pending", error=None)
    add_notifications(later, students, status="pending", error=None)
    now = datetime.now(timezone.utc)

    expected = forecast(now + timedelta(minutes=45), None, 40, now=now)
    assert expected.ahead == 60 and not expected.late
    assert (expected.done_by - now).total_seconds() == pytest.approx(10.0, abs=0.01)  # (60 + 40) at 10 a second

    queue = backlog(now)
    assert [(item.session_id, item.emails) for item in queue.sessions] == [(earlier.id, 60), (later.id, 100)]
    assert [(item.done_by - now).total_seconds() for item in queue.sessions] == pytest.approx([6.0, 16.0])


def test_emails_waiting_to_be_tried_again_count_from_their_next_try(app, course, paced):
    """A relay said "try later" for some of a class's emails: the last leaves no sooner than they
    may be tried again, and the class after it is not held up meanwhile."""
    from portal.models import EmailNotification

    students = make_students(course.program, 60)
    first = done(make_session(course, starts_in=timedelta(minutes=30)))
    second = done(make_session(course, starts_in=timedelta(minutes=40)))
    now = datetime.now(timezone.utc)
    retrying = add_notifications(first, students[:20], status="pending", error="421 try again later")[:5]
    add_notifications(second, students[20:], status="pending", error=None)
    db.session.execute(EmailNotification.__table__.update().where(EmailNotification.id.in_(retrying))
                       .values(next_attempt_at=now + timedelta(minutes=10)))
    db.session.commit()

    queue = backlog(now)
    assert [(item.session_id, item.emails) for item in queue.sessions] == [(first.id, 20), (second.id, 40)]
    # 15 at once (1.5 s), then the second class's 40 (4 s more); the 5 when their 10 minutes are up.
    assert [(item.done_by - now).total_seconds() for item in queue.sessions] == pytest.approx([600.5, 5.5])


def test_sessions_still_to_be_emailed_count_from_their_sending_time(app, course, paced):
    make_students(course.program, 50)
    starts = timedelta(minutes=40)
    make_session(course, starts_in=starts - timedelta(minutes=1), notify_at=datetime.now(timezone.utc) + timedelta(
        seconds=3))  # an earlier class, emailed in 3 s
    now = datetime.now(timezone.utc)
    expected = forecast(now + starts, None, 50, now=now)
    # Ours go first (50 in 5 s), except what the earlier class takes once it is made at 3 s: 5 + 5 = 10 s.
    assert expected.ahead == 50 and (expected.done_by - now).total_seconds() == pytest.approx(10.0, abs=0.1)


def test_late_when_the_last_email_leaves_after_the_link_opens(app, course, paced):
    students = make_students(course.program, 30)
    add_notifications(done(make_session(course, starts_in=timedelta(minutes=1))), students, status="pending",
                      error=None)
    now = datetime.now(timezone.utc)
    big_class = forecast(now + timedelta(minutes=2), None, 1200, now=now)  # 123 s at 10 a second
    assert big_class.late and big_class.minutes_needed == 10  # 123 s + 5 min of margin, in fives
    assert not forecast(now + timedelta(minutes=2), None, 60, now=now).late


def test_no_time_while_paused_or_before_any_pace_is_known(app, course):
    now = datetime.now(timezone.utc)
    unmeasured = forecast(now + timedelta(minutes=30), None, 40, now=now)
    assert unmeasured.done_by is None and unmeasured.pace.capacity is None and not unmeasured.pace.paused
    app.config["MAIL_RATE_LIMIT"] = "5/second"  # a limit is a pace, until one is measured
    assert (forecast(now + timedelta(minutes=30), None, 40, now=now).done_by - now) == timedelta(seconds=8)
    pause.pause(app.extensions["redis"], Relay.of(app.config), "maintenance")
    paused = forecast(now + timedelta(minutes=30), None, 40, now=now)
    assert paused.done_by is None and paused.pace.paused


def test_the_form_says_before_saving_when_the_links_would_be_late(client, auth, people, paced):
    make_students(people["course"].program, 3000)  # 300 s at 10 a second
    auth.login("lecturer@example.edu")
    soon = datetime.now(timezone.utc) + timedelta(minutes=3)  # the portal's zone is UTC in the tests
    args = {"program_id": people["course"].program_id, "session_date": soon.date().isoformat(),
            "start_time": soon.strftime("%H:%M"), "notify_at": "now"}
    timing = client.get("/sessions/audience", query_string=args).get_json()["timing"]
    assert timing["late"] and "after the link opens" in timing["text"]
    assert "It cannot go sooner now" in timing["text"]  # starting in 3 minutes: no earlier sending time left

    later = soon + timedelta(hours=2)
    args.update(start_time=later.strftime("%H:%M"), session_date=later.date().isoformat(),
                notify_at="before", notify_minutes_before=1)
    timing = client.get("/sessions/audience", query_string=args).get_json()["timing"]
    assert timing["late"] and "Email the students 10 minutes before the start, or earlier" in timing["text"]

    args["notify_minutes_before"] = 10
    timing = client.get("/sessions/audience", query_string=args).get_json()["timing"]
    assert not timing["late"] and timing["text"].startswith("The last email should leave by ")

    for nonsense in ({"session_date": "tomorrow"}, {"start_time": "25:00"}, {"notify_at": "never"},
                     {"program_id": 99999999999}):
        assert client.get("/sessions/audience", query_string={**args, **nonsense}).get_json()["timing"] is None


def test_the_edit_form_counts_the_sessions_own_emails_once(client, auth, people, paced):
    """Editing a session whose emails are not made yet, the form says when they would leave as the
    lecturer changes it: its own emails are these, not a class ahead of them."""
    course = people["course"]
    make_students(course.program, 300)
    session = make_session(course, starts_in=timedelta(hours=2), lecturer=people["lecturer"], notify_minutes_before=60)
    session.starts_at = session.starts_at.replace(second=0)  # on the minute, as the form has it
    session.notify_at = session.starts_at - timedelta(minutes=60)  # as planning sets it
    db.session.commit()
    auth.login("lecturer@example.edu")
    starts = session.starts_at  # the portal's zone is UTC in the tests
    args = {"program_id": course.program_id, "session_date": starts.date().isoformat(),
            "start_time": starts.strftime("%H:%M"), "notify_at": "before", "notify_minutes_before": 60}
    as_another = client.get("/sessions/audience", query_string=args).get_json()["timing"]
    assert "after 300 emails for earlier classes" in as_another["text"]  # a new session: this one is ahead
    as_itself = client.get("/sessions/audience", query_string={**args, "session_id": session.id}).get_json()["timing"]
    assert as_itself["text"].startswith("The last email should leave by ") and "earlier classes" not in as_itself["text"]

    page = client.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert f'data-audience-url="/sessions/audience?session_id={session.id}"' in page
    assert re.search(r'id="timing" aria-live="polite">The last email should leave by [^<]*</p>', page)
    session.generated_at = session.starts_at - timedelta(hours=1)  # its emails made: their time is past choosing
    db.session.commit()
    assert 'id="timing"' not in client.get(f"/sessions/{session.id}/edit").get_data(as_text=True)


def test_the_lecturer_is_told_when_the_form_is_shown_once_saved_and_on_the_session_page(client, auth, people,
                                                                                       paced):
    for session in (people["own_session"], people["other_session"]):
        done(session)  # nothing of theirs waits
    make_students(people["course"].program, 40)
    auth.login("lecturer@example.edu")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")
    form = {"course_id": str(people["course"].id), "program_id": str(people["course"].program_id), "stream_id": "",
            "session_date": tomorrow, "start_time": "08:00", "end_time": "10:00", "notify_at": "now",
            "radius_m": "30"}
    shown = client.post("/sessions/new", data={**form, "end_time": "07:00"}).get_data(as_text=True)  # an error
    assert 'id="timing"' in shown and "The last email should leave by" in shown
    page = client.post("/sessions/new", data=form, follow_redirects=True).get_data(as_text=True)
    assert page.count("The last email should leave by") == 2  # the message once saved, and the delivery card
    assert 'id="session-timing"' in page
