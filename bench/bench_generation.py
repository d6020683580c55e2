"""Generation: `generate_notifications_for_session` for N students, against the floor of
N bare `jwt.encode` calls plus one raw insert of N rows (executemany on SQLite, COPY on
PostgreSQL) into the same table, measured in the same run."""
import time
from datetime import datetime, timedelta, timezone

import jwt
from sqlalchemy import func, select, text

from bench.common import best_of, make_app, new_session, postgres_url, report, seed_students, sqlite_url

COLUMNS = ("session_id", "student_profile_id", "token", "token_expires_at", "status", "attempts", "created_at",
           "updated_at")


def run(students: int, runs: int = 3) -> list[dict]:
    results = []
    for name, url in (("SQLite", sqlite_url()), ("PostgreSQL", postgres_url())):
        app = make_app(url)
        with app.app_context():
            results.append(_measure(app, name, students, runs))
    return results


def _measure(app, name: str, students: int, runs: int) -> dict:
    from portal.extensions import db
    from portal.models import EmailNotification
    from portal.services.jwt_service import JWTTokenService
    from portal.services.notification_generation_service import NotificationGenerationService

    _, course = seed_students(students)
    key = app.config["JWT_SECRET_KEY"]
    profile_ids = list(db.session.scalars(text("SELECT id FROM student_profiles ORDER BY id")))
    service = NotificationGenerationService(JWTTokenService.from_config(app.config))

    def portal() -> float:
        session = new_session(course)
        started = time.perf_counter()
        summary = service.generate_notifications_for_session(session.id)
        elapsed = time.perf_counter() - started
        assert summary["notifications_created"] == students, summary
        _clear()
        return elapsed

    def floor() -> float:
        session = new_session(course)
        expires = datetime.now(timezone.utc) + timedelta(hours=1)
        naive = expires.replace(tzinfo=None)
        started = time.perf_counter()
        issued, exp = int(time.time()), int(expires.timestamp())
        tokens = [jwt.encode({"student_profile_id": p, "session_id": session.id, "iat": issued, "exp": exp}, key,
                             algorithm="HS256") for p in profile_ids]
        rows = [(session.id, p, t, naive, "pending", 0, naive, naive) for p, t in zip(profile_ids, tokens, strict=True)]
        _raw_insert(rows)
        db.session.commit()
        elapsed = time.perf_counter() - started
        _clear()
        return elapsed

    def _clear():
        db.session.execute(text("DELETE FROM email_notifications"))
        db.session.commit()

    floor_s = best_of(runs, floor)
    portal_s = best_of(runs, portal)
    # Correctness: a second run over the same session creates nothing.
    session = new_session(course)
    service.generate_notifications_for_session(session.id)
    assert service.generate_notifications_for_session(session.id)["notifications_created"] == 0
    assert db.session.scalar(select(func.count()).select_from(EmailNotification)) == students
    _clear()
    ratio = portal_s / floor_s
    report(f"Generation of {students:,} notifications — {name}", [
        ("portal", portal_s * 1000, "ms"),
        ("floor (jwt.encode + raw insert)", floor_s * 1000, "ms"),
        ("ratio portal / floor", ratio, "× (target ≤ 1.5)"),
    ])
    return {"name": f"generation {name}", "ratio": ratio, "target": 1.5, "lower_is_better": True}


def _raw_insert(rows: list[tuple]) -> None:
    from portal.extensions import db

    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY email_notifications ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        stamp = rows[0][3].strftime("%Y-%m-%d %H:%M:%S.%f")
        connection.exec_driver_sql(
            f"INSERT INTO email_notifications ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [(*row[:3], stamp, *row[4:6], stamp, stamp) for row in rows])
