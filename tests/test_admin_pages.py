"""Admin pages: programs and streams, courses, staff accounts, the student import."""
import io

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Course, Program, StudentProfile, User

HEADER = "student_number,first_name,last_name,email,program_code,stream\n"


def upload(client, text: str, name="students.csv"):
    return client.post("/admin/import", data={"csv_file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_programs_and_streams(client, auth, people):
    auth.login("admin@example.edu")
    response = client.post("/admin/programs", data={"program-code": "BIO", "program-name": "Biology",
                                                    "program-streams": "Day, Evening", "program-submit": "1"})
    assert response.status_code == 302
    bio = db.session.scalar(select(Program).where(Program.code == "BIO"))
    assert [s.name for s in bio.streams] == ["Day", "Evening"]
    response = client.post("/admin/programs", data={"stream-program_id": str(bio.id), "stream-name": "Weekend",
                                                    "stream-submit": "1"})
    assert response.status_code == 302
    db.session.refresh(bio)
    assert "Weekend" in [s.name for s in bio.streams]
    dup = client.post("/admin/programs", data={"stream-program_id": str(bio.id), "stream-name": "Day",
                                               "stream-submit": "1"})
    assert dup.status_code == 400 and b"already has a stream" in dup.data
    again = client.post("/admin/programs", data={"program-code": "BIO", "program-name": "Again",
                                                 "program-submit": "1"})
    assert again.status_code == 400 and b"program BIO already exists" in again.data


def test_courses(client, auth, people):
    auth.login("admin@example.edu")
    assert client.post("/admin/courses", data={"code": "CS999", "name": "Compilers", "program_code": "CS"}
                       ).status_code == 302
    assert db.session.scalar(select(Course).where(Course.course_code == "CS999")).course_name == "Compilers"
    dup = client.post("/admin/courses", data={"code": "CS999", "name": "Again", "program_code": "CS"})
    assert dup.status_code == 400 and b"already exists" in dup.data
    missing = client.post("/admin/courses", data={"code": "", "name": "", "program_code": "CS"})
    assert missing.status_code == 400 and b'id="code-error"' in missing.data


def test_staff_create_and_deactivate(client, auth, people):
    auth.login("admin@example.edu")
    response = client.post("/admin/staff", data={"email": "new@example.edu", "first_name": "New",
                                                 "last_name": "Person", "role": "lecturer"}, follow_redirects=True)
    assert "an invitation to choose a password is on its way" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "new@example.edu"))
    assert user.role == "lecturer" and user.password_hash is None  # nobody typed a password for them
    bad = client.post("/admin/staff", data={"email": "not an address", "first_name": "X", "last_name": "Y",
                                            "role": "admin"})
    assert bad.status_code == 400 and b'id="email-error"' in bad.data

    client.post(f"/admin/staff/{user.id}/active", data={"active": "false"})
    db.session.refresh(user)
    assert user.is_active is False
    client.post(f"/admin/staff/{user.id}/active", data={"active": "true"})
    db.session.refresh(user)
    assert user.is_active is True


def test_admin_cannot_deactivate_themselves(client, auth, people):
    auth.login("admin@example.edu")
    response = client.post(f"/admin/staff/{people['admin'].id}/active", data={"active": "false"},
                           follow_redirects=True)
    assert b"cannot deactivate your own account" in response.data
    db.session.refresh(people["admin"])
    assert people["admin"].is_active


def test_deactivated_staff_cannot_sign_in(client, auth, people):
    people["lecturer"].is_active = False
    db.session.commit()
    response = auth.login("lecturer@example.edu")
    assert response.status_code == 401


def test_import_all_rows(client, auth, people):
    auth.login("admin@example.edu")
    response = upload(client, HEADER + "S1,Ann,Lee,ann@example.edu,CS,A\nS2,Bob,Ray,bob@example.edu,CS,\n")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(StudentProfile)) == 2
    assert b"Imported 2 students" in client.get(response.location).data


def test_import_shows_every_bad_row_and_saves_nothing(client, auth, people):
    auth.login("admin@example.edu")
    response = upload(client, HEADER + "S1,Ann,Lee,ann@example.edu,CS,A\nS2,Bob,Ray,bad,CS,\nS3,C,D,c@example.edu,XX,\n")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html
    assert "Line 3:" in html and "Line 4:" in html and "Line 2:" not in html
    assert db.session.scalar(select(func.count()).select_from(StudentProfile)) == 0


def test_import_refuses_other_files(client, auth, people):
    auth.login("admin@example.edu")
    assert b"Upload a .csv file" in upload(client, "hello", name="students.txt").data
    binary = client.post("/admin/import", data={"csv_file": (io.BytesIO(b"\xff\xfe\x00bad"), "s.csv")},
                         content_type="multipart/form-data")
    assert binary.status_code == 400 and b"The header must be" in binary.data
    latin = client.post("/admin/import", data={"csv_file": (io.BytesIO(b"\xe9t\xe9,\xff"), "s.csv")},
                        content_type="multipart/form-data")
    assert latin.status_code == 400 and b"not UTF-8" in latin.data
    assert client.post("/admin/import", data={}).status_code == 400


def test_queue_page_shows_counts_workers_and_failures(client, auth, app, people, queue):
    from portal.delivery.queueing import PortalWorker

    queue.enqueue("builtins.int", "not a number", job_id="broken-job")
    PortalWorker([queue]).work(burst=True)
    queue.enqueue("portal.delivery.jobs.send_notifications", [999], job_id="waiting-job")
    auth.login("admin@example.edu")
    html = client.get("/admin/queue").get_data(as_text=True)
    assert '<div class="h4 mb-0" data-count="queued">1</div>' in html
    assert '<div class="h4 mb-0" data-count="failed">1</div>' in html
    assert "RefusedJobError: refused to run &#39;builtins.int&#39;: not one of the portal&#39;s jobs" in html
    assert "No worker is running" in html


def test_queue_page_when_redis_is_down(client, auth, app, people):
    from tests.support import queue_down

    auth.login("admin@example.edu")
    with queue_down(app):
        response = client.get("/admin/queue")
    assert response.status_code == 503 and b"not reachable" in response.data


def test_run_the_sweep_from_the_queue_page(client, auth, people):
    auth.login("admin@example.edu")
    response = client.post("/admin/queue/sweep", follow_redirects=True)
    assert b"Sweep done: sessions checked: 2" in response.data


def test_staff_pages_still_answer_when_the_queue_is_down(client, auth, people, app):
    from tests.support import queue_down

    auth.login("admin@example.edu")
    with queue_down(app):
        for path in ("/sessions", "/notifications", "/sessions/new"):
            response = client.get(path)
            assert response.status_code == 200 and b'id="pause-banner"' not in response.data, path


CONTROL = "must not contain control characters"


def test_control_characters_in_names_are_refused_on_their_field(client, auth, people):
    """A CR/LF in a course name would break the header of every email of that course."""
    auth.login("admin@example.edu")
    course = client.post("/admin/courses", data={"code": "CS998", "name": "Compilers\r\nBcc: all@example.edu",
                                                 "program_code": "CS"})
    assert course.status_code == 400 and f'id="name-error">Course name {CONTROL}'.encode() in course.data
    program = client.post("/admin/programs", data={"program-code": "B\tIO", "program-name": "Biology",
                                                   "program-streams": "Day, Eve\x07ning", "program-submit": "1"})
    assert program.status_code == 400
    assert f'id="program-code-error">Program code {CONTROL}'.encode() in program.data
    assert f'id="program-streams-error">A stream name {CONTROL}'.encode() in program.data
    stream = client.post("/admin/programs", data={"stream-program_id": str(people["course"].program_id),
                                                  "stream-name": "Wee\u202ekend", "stream-submit": "1"})
    assert stream.status_code == 400 and f'id="stream-name-error">Stream name {CONTROL}'.encode() in stream.data
    staff = client.post("/admin/staff", data={"email": "new@example.edu", "first_name": "Eve\x1b[2J",
                                              "last_name": "Ok", "role": "lecturer", "password": "long enough pw"})
    assert staff.status_code == 400 and f'id="first_name-error">First name {CONTROL}'.encode() in staff.data
    assert db.session.scalar(select(func.count()).select_from(Course)) == 1  # only the people fixture's
    assert db.session.scalar(select(Program).where(Program.name == "Biology")) is None
    assert db.session.scalar(select(User).where(User.email == "new@example.edu")) is None


def test_the_sweep_button_while_the_queue_is_down_says_nothing_was_queued(client, auth, people, app):
    from tests.support import queue_down

    auth.login("admin@example.edu")
    with queue_down(app):
        response = client.post("/admin/queue/sweep", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Sweep done: sessions checked: 2, recovered sending: 0, requeued pending: 0, expired pending: 0. " \
           "Nothing could be queued. The delivery queue is not reachable right now" in html
    assert "alert-warning" in html and "alert-success" not in html


def test_every_staff_member_sees_a_pause_and_the_queue_counts_what_waits(client, auth, app, people):
    import time

    from portal.delivery import pause
    from portal.delivery.pacing import record_sent
    from portal.delivery.relays import Relay
    from tests.factories import add_notifications, make_students

    session = people["own_session"]
    students = make_students(people["course"].program, 5)
    add_notifications(session, students[:3], status="pending", error=None)
    now = int(time.time())
    for second in range(now - 30, now - 25):  # the relay sent 2 a second a little while ago
        record_sent(app.extensions["redis"], Relay.of(app.config), second, 2)

    auth.login("admin@example.edu")
    page = client.get("/admin/queue").get_data(as_text=True)
    assert "3 emails waiting to be sent" in page and "(2.0 emails a second)" in page and "about " in page

    pause.pause(app.extensions["redis"], Relay.of(app.config), "Mail server refused the login (535 5.7.8)")
    page = client.get("/admin/queue").get_data(as_text=True)
    assert "They wait for delivery to resume." in page and "when delivery resumes" in page
    auth.logout()

    auth.login("lecturer@example.edu")
    for path in ("/sessions", "/notifications", "/account", f"/sessions/{session.id}/attendance"):
        html = client.get(path).get_data(as_text=True)
        assert 'id="pause-banner"' in html and "Mail server refused the login" in html, path
        assert "/admin/queue" not in html, path
    detail = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "this session's 3 waiting emails go out by themselves once it resumes" in " ".join(detail.split())
