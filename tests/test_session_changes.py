"""Sessions after they are saved: the form's checks, editing, cancelling, scheduled sending, series."""
import re
import time
from datetime import datetime, timedelta, timezone
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.database import utcnow
from portal.delivery.outcomes import OutcomeWriter
from portal.delivery.sweep import queue_due_sessions
from portal.extensions import db
from portal.models import AttendanceSession, AuditEvent, DeliveryAttempt, EmailNotification, GenerationStatus
from tests.factories import assign, make_course, make_program, make_students, newest_session, statuses, tomorrow
from tests.smtp_servers import parts
from tests.support import end_process, env_for, error_next_to, start_worker, wait_for

TOMORROW = tomorrow()


@pytest.fixture
def form(people) -> dict:
    course = people["course"]
    return {"course_id": str(course.id), "program_id": str(course.program_id), "stream_id": "",
            "session_date": TOMORROW, "start_time": "08:00", "end_time": "10:00", "notify_at": "now"}


@pytest.fixture
def lecturer(client, auth, people):
    auth.login("lecturer@example.edu")
    return client


def edit_form(session: AttendanceSession, **changes) -> dict:
    starts, ends = session.starts_at.astimezone(timezone.utc), session.ends_at.astimezone(timezone.utc)
    data = {"course_id": session.course_id, "program_id": session.program_id, "stream_id": session.stream_id or "",
            "session_date": f"{starts:%Y-%m-%d}", "start_time": f"{starts:%H:%M}", "end_time": f"{ends:%H:%M}",
            "room": session.room or "", "notify_students": "y"}  # ticked, as the form starts
    if session.generated_at is None:
        data["notify_at"] = "now"
    return {key: str(value) for key, value in {**data, **changes}.items()}


def tokens(session) -> dict[int, str]:
    db.session.expire_all()
    return dict(db.session.execute(select(EmailNotification.student_profile_id, EmailNotification.token)
                                   .where(EmailNotification.session_id == session.id)).all())


def subject(received) -> str:
    return str(make_header(decode_header(received.message["Subject"])))


# --- 1. the form prevents the mistake ---------------------------------------------------------

def test_the_preview_says_who_will_be_emailed(lecturer, people):
    program = people["course"].program
    make_students(program, 3, stream=program.streams[0])
    make_students(program, 2, stream=program.streams[1])
    make_students(program, 1, active=False)
    whole = lecturer.get(f"/sessions/audience?program_id={program.id}").get_json()
    assert whole == {"audience": "all 5 active students of CS (all streams)", "timing": None}  # no date yet
    stream = lecturer.get(f"/sessions/audience?program_id={program.id}&stream_id={program.streams[1].id}").get_json()
    assert stream["audience"] == "both active students of CS (stream B)"
    other = make_program("BBA", streams=("X",))
    for query in (f"program_id={program.id}&stream_id={other.streams[0].id}", "program_id=999", "program_id=x",
                  f"program_id={10**30}", ""):
        assert lecturer.get(f"/sessions/audience?{query}").get_json() == {"audience": None, "timing": None}, query


def test_the_form_shows_the_count_after_a_refusal(lecturer, people, form):
    make_students(people["course"].program, 2)
    html = lecturer.post("/sessions/new", data={**form, "end_time": "07:00"}).get_data(as_text=True)
    assert "This will email <strong id=\"audience-text\">both active students of CS (all streams)</strong>." in html


def test_another_programs_students_need_an_explicit_confirmation(lecturer, people, form):
    bba = make_program("BBA", streams=())
    make_students(bba, 21)
    response = lecturer.post("/sessions/new", data={**form, "program_id": str(bba.id)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_next_to(html, "program_id").startswith("CS201 is a CS course. To email BBA students, tick")
    assert "This will email <strong id=\"audience-text\">all 21 active students of BBA (all streams)</strong>" in html
    # The course's program is listed first, then the others.
    options = re.findall(r'<option (?:selected )?value="(\d+)"', html.split('id="program_id"')[1].split("</select>")[0])
    assert options[0] == str(people["course"].program_id)
    assert db.session.scalar(select(AttendanceSession).where(AttendanceSession.program_id == bba.id)) is None

    response = lecturer.post("/sessions/new", data={**form, "program_id": str(bba.id), "confirm_other_program": "y"})
    assert response.status_code == 302
    assert newest_session().program_id == bba.id


# --- 4. scheduled sending ---------------------------------------------------------------------

def test_a_scheduled_session_is_emailed_when_its_time_comes(lecturer, people, form, app, run_worker, smtp_server):
    make_students(people["course"].program, 2)
    response = lecturer.post("/sessions/new", data={**form, "notify_at": "before", "notify_minutes_before": "90"})
    session = newest_session()
    assert session.notify_minutes_before == 90
    assert session.notify_at == session.starts_at - timedelta(minutes=90)
    assert "go out at" in lecturer.get(response.location).get_data(as_text=True)
    assert not any(queue.job_ids for queue in app.extensions["rq_queues"].values())  # nothing queued yet
    assert queue_due_sessions() == 0
    run_worker()
    assert statuses(session.id) == {} and smtp_server.handler.received == []

    page = lecturer.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Emails will go out at" in page and "Send now" in page
    assert queue_due_sessions(session.notify_at + timedelta(seconds=1)) == 1
    assert queue_due_sessions(session.notify_at + timedelta(seconds=2)) == 0  # queued once
    run_worker()
    assert statuses(session.id) == {"sent": 2}
    assert len(smtp_server.handler.received) == 2


def test_send_now(lecturer, people, form, run_worker, smtp_server):
    make_students(people["course"].program, 1)
    lecturer.post("/sessions/new", data={**form, "notify_at": "before", "notify_minutes_before": "60"})
    session = newest_session()
    assert session.scheduled
    response = lecturer.post(f"/sessions/{session.id}/send-now")
    assert response.status_code == 303
    run_worker()
    assert statuses(session.id) == {"sent": 1}
    assert lecturer.post(f"/sessions/{session.id}/send-now").status_code == 409  # not waiting any more


def test_a_session_starting_sooner_than_its_sending_time_is_emailed_at_once(lecturer, people, form, run_worker):
    make_students(people["course"].program, 1)
    starts = datetime.fromisoformat(f"{form['session_date']}T{form['start_time']}+00:00")
    overdue = int((starts - datetime.now(timezone.utc)).total_seconds() // 60) + 30  # its time passed 30 min ago
    lecturer.post("/sessions/new", data={**form, "notify_at": "before", "notify_minutes_before": str(overdue)})
    session = newest_session()
    assert session.notify_at < datetime.now(timezone.utc) - timedelta(minutes=29)
    run_worker()
    assert statuses(session.id) == {"sent": 1}


def test_minutes_are_needed_and_bounded(lecturer, form):
    html = lecturer.post("/sessions/new", data={**form, "notify_at": "before", "notify_minutes_before": ""}).get_data(
        as_text=True)
    assert "Enter how many minutes before" in error_next_to(html, "notify_minutes_before")
    response = lecturer.post("/sessions/new", data={**form, "notify_at": "before", "notify_minutes_before": "-5"})
    assert response.status_code == 400 and "Choose from 0 to" in error_next_to(response.get_data(as_text=True),
                                                                               "notify_minutes_before")


# --- 5. a series ------------------------------------------------------------------------------

def test_a_three_week_series_and_cancelling_the_rest(lecturer, people, form, app):
    app.config["PORTAL_TIMEZONE"] = "Europe/London"
    response = lecturer.post("/sessions/new", data={**form, "repeat_weeks": "2", "notify_at": "before",
                                                    "notify_minutes_before": "30", "room": "LT 2"})
    assert response.status_code == 302
    sessions = db.session.scalars(select(AttendanceSession).where(AttendanceSession.series_id.is_not(None))
                                  .order_by(AttendanceSession.starts_at)).all()
    assert len(sessions) == 3 and {s.series_id for s in sessions} == {sessions[0].id}
    zone = ZoneInfo("Europe/London")
    assert [s.starts_at.astimezone(zone).strftime("%H:%M") for s in sessions] == ["08:00"] * 3  # local, across DST
    assert [(s.starts_at.astimezone(zone).date() - sessions[0].starts_at.astimezone(zone).date()).days
            for s in sessions] == [0, 7, 14]
    assert all(s.notify_at == s.starts_at - timedelta(minutes=30) and s.room == "LT 2" for s in sessions)
    assert "3 weekly sessions created" in lecturer.get(response.location).get_data(as_text=True)

    listing = lecturer.get("/sessions").get_data(as_text=True)
    assert "Weekly series" in listing and "3 sessions" in listing
    cancel_rest = re.search(r'href="(/sessions/\d+/cancel\?scope=series)"', listing).group(1)
    page = lecturer.get(cancel_rest).get_data(as_text=True)
    assert 'value="series" checked' in page or 'checked value="series"' in page or re.search(
        r'<input[^>]*checked[^>]*value="series"|<input[^>]*value="series"[^>]*checked', page)
    response = lecturer.post(f"/sessions/{sessions[1].id}/cancel", data={"scope": "series"})
    assert response.status_code == 303
    db.session.expire_all()
    assert [s.cancelled for s in sessions] == [False, True, True]
    assert "cancelled" in lecturer.get("/sessions").get_data(as_text=True)


def test_a_series_needs_a_sending_time_and_a_sane_length(lecturer, form):
    html = lecturer.post("/sessions/new", data={**form, "repeat_weeks": "3"}).get_data(as_text=True)
    assert "A weekly series emails each session" in html
    html = lecturer.post("/sessions/new", data={**form, "repeat_weeks": "21", "notify_at": "before",
                                                "notify_minutes_before": "30"}).get_data(as_text=True)
    assert "Repeat for 0 to 20 weeks" in error_next_to(html, "repeat_weeks")
    assert newest_session() is None or newest_session().series_id is None


# --- 2. editing -------------------------------------------------------------------------------

def test_before_any_email_every_field_can_change(lecturer, people, form, app):
    lecturer.post("/sessions/new", data={**form, "notify_at": "before", "notify_minutes_before": "60"})
    session = newest_session()
    other_course = make_course(people["course"].program, code="CS301", name="Algorithms")
    assign(other_course, people["lecturer"])
    page = lecturer.get(f"/sessions/{session.id}/edit")
    assert page.status_code == 200 and "every field can change" in page.get_data(as_text=True)
    response = lecturer.post(f"/sessions/{session.id}/edit", data=edit_form(
        session, course_id=other_course.id, start_time="09:00", end_time="11:00", room="Lab 4",
        notify_at="before", notify_minutes_before="120"))
    assert response.status_code == 303
    session = newest_session()
    assert (session.course_id, session.room, f"{session.starts_at:%H:%M}") == (other_course.id, "Lab 4", "09:00")
    assert session.notify_at == session.starts_at - timedelta(minutes=120)
    assert statuses(session.id) == {}


def test_changing_the_time_after_sending_reissues_the_links(lecturer, people, form, run_worker, smtp_server):
    students = make_students(people["course"].program, 2)
    lecturer.post("/sessions/new", data=form)
    run_worker()
    session = newest_session()
    old = tokens(session)
    assert statuses(session.id) == {"sent": 2}

    response = lecturer.post(f"/sessions/{session.id}/edit", data=edit_form(session, start_time="09:00",
                                                                            end_time="10:30"))
    assert response.status_code == 303
    assert "2 students already emailed get a “Session changed” email" in lecturer.get(response.location).get_data(
        as_text=True)
    run_worker()
    assert statuses(session.id) == {"sent": 2}
    changed = [r for r in smtp_server.handler.received if subject(r).startswith("Session changed")]
    assert len(changed) == 2
    text = parts(changed[0].message)["text/plain"]
    assert "09:00 - 10:30 UTC" in text
    new = tokens(session)
    assert new[students[0].id] in text or new[students[1].id] in text
    assert changed[0].message["Message-ID"] not in {r.message["Message-ID"] for r in smtp_server.handler.received[:2]}

    for student in students:
        gone = lecturer.get(f"/attendance?token={old[student.id]}")
        assert gone.status_code == 410
        assert "This session was changed; use the newest email" in gone.get_data(as_text=True)
        assert lecturer.get(f"/attendance?token={new[student.id]}").status_code == 403  # not open yet: tomorrow


def test_a_change_without_notify_students_emails_nobody_and_keeps_the_links(lecturer, people, form, run_worker,
                                                                           smtp_server):
    make_students(people["course"].program, 2)
    lecturer.post("/sessions/new", data=form)
    run_worker()
    session = newest_session()
    old = tokens(session)
    received = len(smtp_server.handler.received)
    data = edit_form(session, end_time="11:00")
    del data["notify_students"]  # unticked
    response = lecturer.post(f"/sessions/{session.id}/edit", data=data)
    assert response.status_code == 303
    assert "2 students already emailed were not told" in lecturer.get(response.location).get_data(as_text=True)
    run_worker()
    assert len(smtp_server.handler.received) == received and tokens(session) == old  # no email, the same links
    assert statuses(session.id) == {"sent": 2}
    assert lecturer.get(f"/attendance?token={next(iter(old.values()))}").status_code == 403  # stands: not open yet
    details = db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "session.edit"))
    assert details.startswith("ends at:") and details.endswith("; students not told")


def test_changing_the_program_adds_and_withdraws(lecturer, people, form, run_worker, smtp_server):
    cs = people["course"].program
    a, b = cs.streams
    in_a = make_students(cs, 2, stream=a)
    in_b = make_students(cs, 1, stream=b)
    lecturer.post("/sessions/new", data={**form, "stream_id": str(a.id)})
    run_worker()
    session = newest_session()
    old = tokens(session)
    assert set(old) == {s.id for s in in_a}

    response = lecturer.post(f"/sessions/{session.id}/edit", data=edit_form(session, stream_id=b.id))
    assert response.status_code == 303
    run_worker()
    assert statuses(session.id) == {"withdrawn": 2, "sent": 1}
    invitations = [r for r in smtp_server.handler.received if subject(r).startswith("Attendance Session Created")]
    assert sorted(r.recipient for r in invitations) == sorted([s.user.email for s in in_a + in_b])
    gone = lecturer.get(f"/attendance?token={old[in_a[0].id]}")
    assert gone.status_code == 410 and "is no longer on your list" in gone.get_data(as_text=True)


def test_a_pending_email_of_a_withdrawn_student_is_never_sent(lecturer, people, form, app, run_worker, smtp_server):
    cs = people["course"].program
    a, b = cs.streams
    make_students(cs, 2, stream=a)
    lecturer.post("/sessions/new", data={**form, "stream_id": str(a.id)})
    session = newest_session()
    from portal.delivery.jobs import generate_notifications
    for queue in app.extensions["rq_queues"].values():
        queue.empty()
    generate_notifications(session.id)  # prepared and queued, not yet sent
    lecturer.post(f"/sessions/{session.id}/edit", data=edit_form(session, stream_id=b.id))
    run_worker()
    assert statuses(session.id) == {"withdrawn": 2}
    assert smtp_server.handler.received == []


def test_only_the_owner_or_an_admin_can_edit_or_cancel(client, auth, people, form):
    session = people["other_session"]
    auth.login("lecturer@example.edu")
    assert client.get(f"/sessions/{session.id}/edit").status_code == 404
    assert client.post(f"/sessions/{session.id}/cancel", data={}).status_code == 404
    assert client.post(f"/sessions/{session.id}/send-now").status_code == 404
    db.session.expire_all()
    assert not db.session.get(AttendanceSession, session.id).cancelled
    auth.logout()
    auth.login("admin@example.edu")
    assert client.get(f"/sessions/{session.id}/edit").status_code == 200
    assert client.post(f"/sessions/{session.id}/cancel", data={}).status_code == 303


# --- 3. cancelling ----------------------------------------------------------------------------

def test_cancelling_without_telling_the_students(lecturer, people, form, app, run_worker, smtp_server):
    students = make_students(people["course"].program, 2)
    lecturer.post("/sessions/new", data=form)
    run_worker()
    session = newest_session()
    links = tokens(session)
    page = lecturer.get(f"/sessions/{session.id}/cancel").get_data(as_text=True)
    assert "2 students already emailed" in page and "Nothing is deleted" in page
    response = lecturer.post(f"/sessions/{session.id}/cancel", data={})
    assert response.status_code == 303
    run_worker()
    assert len(smtp_server.handler.received) == 2  # only the invitations
    detail = lecturer.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Cancelled" in detail and "Edit" not in detail.split("<main")[1].split("Email delivery")[0]
    for student in students:
        gone = lecturer.get(f"/attendance?token={links[student.id]}")
        assert gone.status_code == 410 and "This session was cancelled" in gone.get_data(as_text=True)
        assert "will not take place" in gone.get_data(as_text=True)
    assert lecturer.get(f"/sessions/{session.id}/edit").status_code == 409
    assert db.session.get(AttendanceSession, session.id) is not None


def test_cancelling_and_telling_the_students(lecturer, people, form, app, run_worker, smtp_server):
    make_students(people["course"].program, 2)
    lecturer.post("/sessions/new", data=form)
    run_worker()
    session = newest_session()
    lecturer.post(f"/sessions/{session.id}/cancel", data={"notify_students": "y"})
    run_worker()
    cancelled = [r for r in smtp_server.handler.received if subject(r).startswith("Session cancelled")]
    assert len(cancelled) == 2
    assert "It will not take place" in parts(cancelled[0].message)["text/plain"]
    assert "attendance?token=" not in parts(cancelled[0].message)["text/plain"]
    assert statuses(session.id) == {"sent": 2}
    history = db.session.scalars(select(DeliveryAttempt.outcome)).all()
    assert history.count("sent") == 4  # both emails of both students, in their history


def test_cancelling_before_sending_withdraws_everything(lecturer, people, form, app, run_worker, smtp_server):
    make_students(people["course"].program, 3)
    lecturer.post("/sessions/new", data=form)
    session = newest_session()
    from portal.delivery.jobs import generate_notifications
    for queue in app.extensions["rq_queues"].values():
        queue.empty()
    generate_notifications(session.id)
    lecturer.post(f"/sessions/{session.id}/cancel", data={"notify_students": "y"})
    run_worker()
    assert statuses(session.id) == {"withdrawn": 3}
    assert smtp_server.handler.received == []


def test_a_cancelled_scheduled_session_is_never_prepared(lecturer, people, form, run_worker):
    make_students(people["course"].program, 1)
    lecturer.post("/sessions/new", data={**form, "notify_at": "before", "notify_minutes_before": "60"})
    session = newest_session()
    lecturer.post(f"/sessions/{session.id}/cancel", data={})
    assert queue_due_sessions(session.notify_at + timedelta(minutes=1)) == 0
    run_worker()
    assert statuses(session.id) == {}
    assert newest_session().generation_status == GenerationStatus.WAITING


def test_an_answer_does_not_undo_a_withdrawal_or_land_on_a_newer_claim(app, people):
    """A relay's answer that arrives after the lecturer withdrew the email, or after the row was
    re-issued and claimed again (a new Message-ID), is history only."""
    from portal.delivery.outcomes import Attempt
    from tests.factories import make_notification

    withdrawn, reissued = make_students(people["course"].program, 2)
    rows = [make_notification(people["own_session"], student, status="sending") for student in (withdrawn, reissued)]
    for row in rows:
        row.message_id = f"<old-{row.id}@example.edu>"
    rows[0].status = "withdrawn"
    db.session.commit()
    old_ids = {row.id: row.message_id for row in rows}
    rows[1].message_id = "<new@example.edu>"  # re-issued, and claimed by a newer batch
    db.session.commit()
    with OutcomeWriter.open() as writer:
        for row in rows:
            writer.record(row.id, old_ids[row.id], "sent", None, utcnow(), sent_at=utcnow(),
                          attempt=Attempt("sent", 250, "OK"), counts=True)
    db.session.expire_all()
    assert [db.session.get(EmailNotification, row.id).status for row in rows] == ["withdrawn", "sending"]
    assert db.session.scalars(select(DeliveryAttempt.outcome)).all() == ["sent", "sent"]


def test_answers_given_at_once_are_committed_together_and_one_refused_loses_no_other(people):
    """The writer's group commit: ten threads' answers, one the database refuses (its history names
    no email); the nine others are committed, and only its thread hears the error."""
    import threading

    from portal.delivery.outcomes import Attempt
    from tests.factories import make_notification

    rows = [make_notification(people["own_session"], student, status="sending")
            for student in make_students(people["course"].program, 9)]
    for row in rows:
        row.message_id = f"<{row.id}@example.edu>"
    db.session.commit()
    answers = [(row.id, row.message_id) for row in rows] + [(2**31 - 1, "<none@example.edu>")]
    errors, start = {}, threading.Barrier(len(answers))
    with OutcomeWriter.open() as writer:
        def answer(row_id, message_id):
            start.wait()
            try:
                writer.record(row_id, message_id, "sent", None, utcnow(), sent_at=utcnow(),
                              attempt=Attempt("sent", 250, "OK"), counts=True)
            except Exception as exc:
                errors[row_id] = exc
        threads = [threading.Thread(target=answer, args=pair) for pair in answers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert list(errors) == [2**31 - 1]
    db.session.expire_all()
    assert {db.session.get(EmailNotification, row.id).status for row in rows} == {"sent"}
    assert len(db.session.scalars(select(DeliveryAttempt.outcome)).all()) == 9


# --- the subject and the command line ---------------------------------------------------------

def test_the_subject_can_be_worded_by_the_institution(lecturer, people, form, app, run_worker, smtp_server):
    app.config["EMAIL_SUBJECT_TEMPLATE"] = "[{course_code}] Attendance: {course_name}, {session_date}"
    make_students(people["course"].program, 1)
    lecturer.post("/sessions/new", data=form)
    run_worker()
    assert subject(smtp_server.handler.received[0]) == f"[CS201] Attendance: Data Structures, {TOMORROW}"


@pytest.mark.parametrize("template, problem", [("{nope}", "KeyError"), ("{course_name.__class__}", "plain names"),
                                                ("{", "ValueError"), ("a\nb", "one line")])
def test_a_bad_subject_template_is_refused_at_start_up(template, problem):
    from portal.config import check_settings
    from portal.exceptions import ConfigurationError
    settings = {"PORTAL_TIMEZONE": "UTC", "MAIL_RATE_LIMIT": "", "MAIL_RETRY_DELAYS": [60], "MAIL_CONNECTIONS": 1,
                "MAIL_PAUSE_PROBE_SECONDS": 1, "MAIL_BATCH_SIZE": 1, "EMAIL_SUBJECT_TEMPLATE": template}
    with pytest.raises(ConfigurationError, match="EMAIL_SUBJECT_TEMPLATE") as raised:
        check_settings(settings)
    assert problem in str(raised.value)


def test_the_start_up_check_knows_every_placeholder_an_email_has(app):
    """The check formats the subject with SAMPLE_EMAIL_CONTEXT: a placeholder added to the emails'
    context and not there would be refused at start-up although every email could fill it."""
    from types import SimpleNamespace

    from portal.delivery.messages import SAMPLE_EMAIL_CONTEXT
    from portal.delivery.sending import DeliveryService
    moment = datetime(2026, 11, 26, 10, tzinfo=timezone.utc)
    row = SimpleNamespace(first_name="Amina", course_name="Data Structures", course_code="CS201", starts_at=moment,
                          ends_at=moment, token="t", token_expires_at=moment, radius_m=30, latitude=None,
                          require_id_scan=False, room=None)
    service = DeliveryService.__new__(DeliveryService)
    service.base_url = "https://portal.example.edu"
    with app.app_context():
        assert set(service._context(row, "en")) == set(SAMPLE_EMAIL_CONTEXT)


def test_the_cli_schedules_a_series(cli, app, people):
    result = cli("create-session", "--course", "CS201", "--date", TOMORROW, "--start", "08:00", "--end", "09:00",
                 "--notify-minutes-before", "45", "--repeat-weeks", "1")
    assert result.exit_code == 0, result.output
    assert result.output.count("notifications scheduled for") == 2
    result = cli("create-session", "--course", "CS201", "--date", TOMORROW, "--start", "08:00", "--end", "09:00",
                 "--repeat-weeks", "1")
    assert result.exit_code == 1 and "A weekly series emails each session" in result.output


def test_a_session_scheduled_seconds_ahead_is_emailed_on_time_across_a_worker_restart(
        app, course, smtp_server, tmp_path):
    """Real worker processes: the first is stopped before the sending time and a new one started;
    the emails leave when the time comes, not before, and not much after. (Sending times are
    whole minutes before the start; a start 30 minutes and some seconds away puts the sending
    time those seconds away.)"""
    from portal.sessions.planning import SessionRequest, create_sessions

    make_students(course.program, 2)  # and no other session: only this one's emails go out
    notify_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=12)
    session = create_sessions(SessionRequest(
        course_id=course.id, program_id=course.program_id, stream_id=None, lecturer_id=None,
        starts_at=notify_at + timedelta(minutes=30), ends_at=notify_at + timedelta(minutes=90),
        notify_minutes_before=30))[0]
    assert session.notify_at == notify_at
    env = env_for(app)
    first = start_worker(env, tmp_path / "worker-1.log", burst=False)
    time.sleep(4)
    end_process(first)  # every worker restarted in between
    assert smtp_server.handler.received == []
    assert datetime.now(timezone.utc) < notify_at, "the first worker should have stopped before the time"
    second = start_worker(env, tmp_path / "worker-2.log", burst=False)
    try:
        wait_for(lambda: len(smtp_server.handler.received) == 2, timeout=60, what="the scheduled emails")
    finally:
        end_process(second)
    for accepted in smtp_server.handler.accepted_at:
        assert notify_at.timestamp() <= accepted <= notify_at.timestamp() + 10
    assert statuses(session.id) == {"sent": 2}


# --- changes while a batch is sending ---------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("change", ["edit", "cancel"])
def test_a_change_during_a_slow_batch_sends_nothing_stale_and_its_emails_leave_at_once(
        app, people, tmp_path, change):
    """A relay that holds each reply; the lecturer moves (or cancels) the session after the
    first emails went out. The running batch drops what it had built for the old session, and
    the "changed" ("cancelled") emails go within seconds, not when the sweep comes round."""
    from portal.delivery import queueing
    from portal.sessions import planning
    from portal.sessions.changes import cancel_sessions, edit_session
    from tests.smtp_servers import ScriptedHandler, SMTPServer
    from tests.support import point_mail_at, running_worker

    course = people["course"]
    make_students(course.program, 10)
    with SMTPServer(ScriptedHandler(latency=0.1)) as relay:  # four replies a message: 0.4 s each
        point_mail_at(app, relay.port)
        starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=30)
        request = planning.SessionRequest(course_id=course.id, program_id=course.program_id, stream_id=None,
                                          lecturer_id=people["lecturer"].id, starts_at=starts,
                                          ends_at=starts + timedelta(hours=1))
        session = planning.create_session(request)
        queueing.enqueue_generation(session.id, session.starts_at)
        with running_worker(app, tmp_path / "worker.log"):
            wait_for(lambda: len(relay.handler.received) >= 2, timeout=20, what="the first emails")
            db.session.expire_all()
            session = db.session.get(AttendanceSession, session.id)
            if change == "edit":
                moved = planning.SessionRequest(**{**request.__dict__, "starts_at": starts + timedelta(hours=1),
                                                   "ends_at": starts + timedelta(hours=2)})
                summary = edit_session(session, moved, by=people["lecturer"])
            else:
                summary = cancel_sessions([session], people["lecturer"], notify_students=True)
            changed_at = time.time()
            emailed = summary.reissued
            assert emailed >= 2 and queueing.enqueue_send_batches(summary.pending, suffix=summary.job_suffix,
                                                                  starts_at=session.starts_at)
            kind = "Session changed" if change == "edit" else "Session cancelled"
            wait_for(lambda: sum(kind in subject(r) for r in relay.handler.received) == emailed, timeout=15,
                     what=f"the {kind} emails")
            took = time.time() - changed_at
            if change == "edit":
                wait_for(lambda: statuses(session.id) == {"sent": 10}, timeout=15, what="every student's newest email")
    assert took < 10  # the sweep would have taken minutes
    current = {row.student_profile.user.email: row.token
               for row in db.session.scalars(select(EmailNotification).where(EmailNotification.session_id == session.id))}
    late = [r for r, at in zip(relay.handler.received, relay.handler.accepted_at) if at > changed_at + 0.6]
    stale = [r.recipient for r in late if "Attendance Session Created" in subject(r)
             and (change == "cancel" or current[r.recipient] not in parts(r.message)["text/plain"])]
    assert stale == []  # beyond the one message already on the wire, nothing for the old session


def test_an_edit_while_the_emails_are_prepared_ends_with_rows_that_match_the_session(app, people, monkeypatch):
    """Generation has read the session and its students when the lecturer moves the session to
    another stream and an hour later. The preparation starts again: every row is for a student
    of the new stream, with a link that lasts as long as the moved session needs."""
    import threading

    from portal import link_window
    from portal.repositories import StudentProfileRepository
    from portal.services.jwt_service import JWTTokenService
    from portal.services.notification_generation_service import NotificationGenerationService
    from portal.sessions import planning
    from portal.sessions.changes import edit_session

    course = people["course"]
    stream_a, stream_b = course.program.streams
    make_students(course.program, 3, stream=stream_a, prefix="in-a")
    in_b = make_students(course.program, 2, stream=stream_b, prefix="in-b")
    starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    session = planning.create_session(planning.SessionRequest(
        course_id=course.id, program_id=course.program_id, stream_id=stream_a.id, lecturer_id=people["lecturer"].id,
        starts_at=starts, ends_at=starts + timedelta(hours=1)))
    read, edited = threading.Event(), threading.Event()
    real_read = StudentProfileRepository.get_by_program_and_stream

    def read_then_wait(self, *args, **kwargs):
        students = real_read(self, *args, **kwargs)
        if not read.is_set():
            read.set()
            edited.wait(10)  # the edit is saved while generation holds what it read
        return students

    monkeypatch.setattr(StudentProfileRepository, "get_by_program_and_stream", read_then_wait)

    def generate():
        with app.app_context():
            NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(
                session.id)

    worker = threading.Thread(target=generate)
    worker.start()
    assert read.wait(10)
    moved = planning.SessionRequest(course_id=course.id, program_id=course.program_id, stream_id=stream_b.id,
                                    lecturer_id=people["lecturer"].id, starts_at=starts + timedelta(hours=1),
                                    ends_at=starts + timedelta(hours=2))
    edit_session(db.session.get(AttendanceSession, session.id), moved, by=people["lecturer"])
    edited.set()
    worker.join(20)
    db.session.expire_all()
    rows = db.session.scalars(select(EmailNotification).where(EmailNotification.session_id == session.id)).all()
    assert sorted(row.student_profile_id for row in rows) == sorted(s.id for s in in_b)
    assert {row.token_expires_at for row in rows} == {link_window.expires(moved.starts_at, moved.ends_at)}
    assert db.session.get(AttendanceSession, session.id).generated_at is not None
