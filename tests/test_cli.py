"""The `flask --app wsgi …` commands: good input does the job, bad input exits non-zero with one line."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AttendanceRecord, AttendanceSession, Course, EmailNotification, Program, StudentProfile, User
from tests.factories import make_course, make_program, make_students

A_MONTH_AGO = (date.today() - timedelta(days=30)).isoformat()  # links long expired, not a typo
NEXT_WEEK = (date.today() + timedelta(days=7)).isoformat()

HEADER = "student_number,first_name,last_name,email,program_code,stream,active\n"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def one_line_error(result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: ")
    return lines[-1]


def test_create_user_and_bad_input(cli):
    ok = cli("create-user", "--email", "Ada@Example.edu", "--password", "long enough pw", "--role", "admin",
             "--first-name", "Ada", "--last-name", "Admin")
    assert ok.exit_code == 0, ok.output
    user = db.session.scalar(select(User))
    assert user.email == "Ada@example.edu" and user.role == "admin" and user.check_password("long enough pw")
    assert user.password_hash != "long enough pw"

    again = cli("create-user", "--email", "ada@example.edu", "--password", "long enough pw", "--role", "lecturer",
                "--first-name", "A", "--last-name", "B")
    assert "already exists" in one_line_error(again)
    short = cli("create-user", "--email", "x@example.edu", "--password", "short", "--role", "lecturer",
                "--first-name", "A", "--last-name", "B")
    assert "at least 10 characters" in one_line_error(short)
    assert count(User) == 1


def test_create_program_and_course(cli):
    assert cli("create-program", "--code", "CS", "--name", "Computer Science", "--streams", "A, B").exit_code == 0
    program = db.session.scalar(select(Program))
    assert [s.name for s in program.streams] == ["A", "B"]
    assert "already exists" in one_line_error(cli("create-program", "--code", "CS", "--name", "Again"))
    assert cli("create-course", "--code", "CS201", "--name", "Data Structures", "--program", "CS").exit_code == 0
    assert db.session.scalar(select(Course)).program_id == program.id
    assert "unknown program" in one_line_error(cli("create-course", "--code", "X1", "--name", "X", "--program", "NOPE"))


def test_import_students_all_rows(cli, app, tmp_path):
    make_program("CS", streams=("A",))
    csv_file = tmp_path / "students.csv"
    csv_file.write_text(HEADER + "S1,Ann,Lee,ann@example.edu,CS,A,true\nS2,Bob,Ray,bob@example.edu,CS,,false\n")
    result = cli("import-students", str(csv_file))
    assert result.exit_code == 0, result.output
    assert "Imported 2 students" in result.output
    profiles = {p.student_number: p for p in db.session.scalars(select(StudentProfile))}
    assert profiles["S1"].stream.name == "A" and profiles["S1"].is_active
    assert profiles["S2"].stream is None and not profiles["S2"].is_active


def test_import_students_is_all_or_nothing_and_reports_every_bad_row(cli, tmp_path):
    make_program("CS", streams=("A",))
    csv_file = tmp_path / "students.csv"
    csv_file.write_text(
        HEADER
        + "S1,Ann,Lee,ann@example.edu,CS,A,true\n"  # fine
        + "S2,Bob,Ray,not-an-email,CS,,\n"  # line 3
        + "S3,Cy,Oh,cy@example.edu,NOPE,,\n"  # line 4
        + "S4,Di,Fu,di@example.edu,CS,Z,\n"  # line 5
        + "S1,Ed,Po,ed@example.edu,CS,,\n"  # line 6: duplicate number
        + "S6,Flo,Yu,ANN@example.edu,CS,,maybe\n"  # line 7: duplicate email and bad active
    )
    result = cli("import-students", str(csv_file))
    assert result.exit_code != 0
    for line in (3, 4, 5, 6, 7):
        assert f"Line {line}:" in result.output
    assert "Line 2:" not in result.output
    assert "nothing imported: fix the problems listed above" in result.output
    assert result.output.count("Line ") == 5
    assert count(StudentProfile) == 0 and count(User) == 0


def test_import_rejects_a_wrong_header(cli, tmp_path):
    csv_file = tmp_path / "students.csv"
    csv_file.write_text("number,name\n1,x\n")
    assert "missing: student_number" in cli("import-students", str(csv_file)).output


def test_seed_demo_fills_an_empty_database_once(cli):
    result = cli("seed-demo", "--password", "demo password 123")
    assert result.exit_code == 0, result.output
    assert "lecturer@example.edu" in result.output and "demo password 123" in result.output
    assert count(StudentProfile) == 60 and count(Program) == 2 and count(Course) == 3
    flagged = db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.position_uncertain)).all()
    assert len(flagged) == 2 and all(r.review is None and r.accuracy_m == 35 for r in flagged)  # for the demo's review
    assert db.session.scalar(select(User).where(User.email == "lecturer@example.edu")).check_password(
        "demo password 123")
    assert "already has users" in one_line_error(cli("seed-demo"))


def test_create_session_in_portal_time_queues_generation(cli, app, queue):
    app.config["PORTAL_TIMEZONE"] = "Africa/Nairobi"
    course = make_course(make_program("CS", streams=("A",)))
    make_students(course.program, 2)
    day = (datetime.now(ZoneInfo("Africa/Nairobi")) + timedelta(days=1)).strftime("%Y-%m-%d")
    start, end = "08:15", "10:00"
    result = cli("create-session", "--course", "CS201", "--date", day, "--start", start, "--end", end, "--stream", "A")
    assert result.exit_code == 0, result.output
    assert "notifications queued" in result.output
    session = db.session.scalar(select(AttendanceSession))
    assert session.starts_at.astimezone(ZoneInfo("Africa/Nairobi")).strftime("%Y-%m-%d %H:%M") == f"{day} {start}"
    assert session.starts_at.strftime("%H:%M") == "05:15"  # stored in UTC (Nairobi is UTC+3)
    assert session.stream.name == "A"
    assert queue.job_ids == []  # tomorrow's session waits behind classes starting now
    assert app.extensions["rq_queues"]["later"].job_ids == [f"generate-session-{session.id}"]
    assert not session.require_id_scan


def test_create_session_can_require_the_card_scan(cli, app):
    course = make_course(make_program("CS", streams=()))
    day = (datetime.now(ZoneInfo("UTC")) + timedelta(days=2)).strftime("%Y-%m-%d")
    base = ["create-session", "--course", course.course_code, "--date", day, "--end", "10:00"]
    assert cli(*base, "--start", "08:00", "--require-id-scan").exit_code == 0
    app.config["ATTENDANCE_REQUIRE_ID_SCAN"] = True
    assert cli(*base, "--start", "08:30").exit_code == 0  # the setting's default
    assert cli(*base, "--start", "09:00", "--no-require-id-scan").exit_code == 0
    sessions = db.session.scalars(select(AttendanceSession).order_by(AttendanceSession.id)).all()
    assert [s.require_id_scan for s in sessions] == [True, True, False]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--course", "NOPE", "--date", NEXT_WEEK, "--start", "08:00", "--end", "09:00"], "unknown course"),
        (["--course", "CS201", "--date", NEXT_WEEK, "--start", "8am", "--end", "09:00"], "not a time"),
        (["--course", "CS201", "--date", NEXT_WEEK, "--start", "09:00", "--end", "08:00"], "end after it starts"),
        (["--course", "CS201", "--date", A_MONTH_AGO, "--start", "08:00", "--end", "09:00"], "already have expired"),
        (["--course", "CS201", "--date", NEXT_WEEK, "--start", "08:00", "--end", "09:00", "--stream", "Z"],
         "has no stream"),
        (["--course", "CS201", "--date", NEXT_WEEK, "--start", "08:00", "--end", "09:00", "--latitude", "1",
          "--longitude", "2", "--radius", "5"], "radius from 10 to 1000 metres"),
    ],
)
def test_create_session_bad_input(cli, app, args, message):
    make_course(make_program("CS", streams=("A",)))
    assert message in one_line_error(cli("create-session", *args))
    assert count(AttendanceSession) == 0


def test_create_session_takes_a_radius_or_the_settings_default(cli, app):
    course = make_course(make_program("CS", streams=()))
    app.config["ATTENDANCE_RADIUS_METRES"] = 40
    base = ["create-session", "--course", course.course_code, "--date", NEXT_WEEK, "--end", "10:00",
            "--latitude", "-1.28", "--longitude", "36.8"]
    assert cli(*base, "--start", "08:00", "--radius", "120").exit_code == 0
    assert cli(*base, "--start", "09:00").exit_code == 0
    assert db.session.scalars(select(AttendanceSession.radius_m).order_by(AttendanceSession.id)).all() == [120, 40]


def test_sweep_command_reports_what_it_did(cli, app):
    result = cli("sweep")
    assert result.exit_code == 0
    assert "sessions checked: 0" in result.output
    assert count(EmailNotification) == 0


@pytest.mark.parametrize("args, message", [
    (["create-course", "--code", "X1", "--name", "Line\nbreak", "--program", "CS"], "Course name must not contain"),
    (["create-program", "--code", "P\x00", "--name", "Nul"], "Program code must not contain"),
    (["create-program", "--code", "P2", "--name", "Ok", "--streams", "A,B\tC"], "A stream name must not contain"),
    (["create-user", "--email", "x@example.edu", "--password", "long enough pw", "--role", "lecturer",
      "--first-name", "X\r", "--last-name", "Y"], None),  # a trailing CR is stripped like a space
    (["create-user", "--email", "x@example.edu", "--password", "long enough pw", "--role", "lecturer",
      "--first-name", "X\ry", "--last-name", "Y" * 101], "First name must not contain"),
])
def test_control_characters_in_names_are_refused_with_one_line(cli, args, message):
    make_program("CS", streams=("A",))
    result = cli(*args)
    if message is None:
        assert result.exit_code == 0, result.output
        assert db.session.scalar(select(User).where(User.email == "x@example.edu")).first_name == "X"
        return
    error = one_line_error(result)
    assert message in error
    assert "Last name must be at most 100 characters" in error or "Y" * 101 not in args
    assert count(Course) == 0 and count(Program) == 1 and count(User) == 0


def test_sweep_command_while_the_queue_is_down_exits_non_zero(cli, app):
    from tests.support import queue_down

    with queue_down(app):
        result = cli("sweep")
    assert result.exit_code == 1
    assert "sessions checked: 0" in result.output
    assert "Error: the queue (Redis) is unreachable: nothing was queued" in result.output


def test_a_pause_reason_with_control_characters_is_refused(cli, app):
    """The reason is printed by `delivery status` to a terminal: no escape sequences in it."""
    from portal.delivery import pause
    from portal.delivery.relays import Relay

    result = cli("delivery", "pause", "--reason", "Maintenance\x1b[2J\x1b[31m")
    assert result.exit_code == 1 and "The reason must not contain control characters" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert not pause.is_paused(app.extensions["redis"], Relay.of(app.config))
