"""End to end: a session for N students, from the form POST to the last email accepted by
the SMTP server, with one worker process (SQLite, Redis, the SMTP sink in its own process)."""
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from bench.common import SMTPSink, make_app, report, seed_students, sqlite_url, workers


def run(count: int) -> list[dict]:
    with SMTPSink() as sink:
        app = make_app(sqlite_url(), sink.port)
        with app.app_context():
            from portal.extensions import db
            from portal.models import Role, TeachingAssignment, User

            _, course = seed_students(count)
            lecturer = User(email="lecturer@example.edu", first_name="Lee", last_name="Lecturer",
                            role=Role.LECTURER, is_active=True)
            lecturer.set_password("benchmark password")
            db.session.add(lecturer)
            db.session.flush()
            db.session.add(TeachingAssignment(course_id=course.id, user_id=lecturer.id))  # they teach it
            db.session.commit()
            form = {"course_id": course.id, "program_id": course.program_id, "stream_id": "",
                    "session_date": (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d"),
                    "start_time": "08:00", "end_time": "10:00"}
        client = app.test_client()
        client.post("/login", data={"email": "lecturer@example.edu", "password": "benchmark password"})
        with workers(app, 1):
            started = time.perf_counter()
            response = client.post("/sessions/new", data=form)
            answered = time.perf_counter() - started
            assert response.status_code == 302, response.status_code
            sink.wait_for(count, timeout=120)
            elapsed = time.perf_counter() - started
        assert Counter(sink.received()) == Counter(f"student{n}@example.edu" for n in range(count))
    report(f"End to end: a {count:,}-student session, form POST to the last email accepted, one worker", [
        ("the form answered after", answered * 1000, "ms"),
        ("last email accepted after", elapsed, "s (target ≤ 3)"),
        ("throughput", count / elapsed, "emails/s"),
    ])
    return [{"name": f"end to end, {count:,} students (seconds)", "ratio": elapsed, "target": 3.0,
             "lower_is_better": True}]
