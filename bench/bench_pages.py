"""Pages: the notifications page and the session page at 100 and at N rows. Queries per
request must be equal at both sizes, and render time at N at most 1.3× that at 100."""
from datetime import datetime, timezone

from sqlalchemy import text

from bench.common import make_app, measure_page, new_session, report, seed_students, sqlite_url


def run(big: int, requests: int = 30) -> list[dict]:
    app = make_app(sqlite_url())
    with app.app_context():
        from portal.extensions import db
        from portal.models import Role, User

        _, course = seed_students(big)
        admin = User(email="admin@example.edu", first_name="Ada", last_name="Admin", role=Role.ADMIN, is_active=True)
        admin.set_password("benchmark password")
        db.session.add(admin)
        db.session.commit()
        small_session, big_session = new_session(course), new_session(course)
        profiles = list(db.session.scalars(text("SELECT id FROM student_profiles ORDER BY id")))
        _notify(small_session, profiles[:100])
        _notify(big_session, profiles)
        small_id, big_id = small_session.id, big_session.id

    client = app.test_client()
    client.post("/login", data={"email": "admin@example.edu", "password": "benchmark password"})
    results, rows = [], []
    for page, url in (("notifications page", "/notifications?session_id={}"), ("session page", "/sessions/{}")):
        small_queries, small_time = measure_page(app, client, url.format(small_id), requests)
        big_queries, big_time = measure_page(app, client, url.format(big_id), requests)
        assert small_queries == big_queries, f"{page}: {small_queries} queries at 100 rows, {big_queries} at {big}"
        ratio = big_time / small_time
        rows += [(f"{page}: queries at 100 / {big:,} rows", f"{small_queries} / {big_queries}", ""),
                 (f"{page}: median render at 100 rows", small_time * 1000, "ms"),
                 (f"{page}: median render at {big:,} rows", big_time * 1000, "ms"),
                 (f"{page}: ratio", ratio, "× (target ≤ 1.3)")]
        results.append({"name": f"{page} {big:,} vs 100 rows", "ratio": ratio, "target": 1.3,
                        "lower_is_better": True})
    report(f"Pages at 100 and {big:,} notifications (SQLite, {requests} requests each)", rows)
    return results


def _notify(session, profiles: list[int]) -> None:
    from portal.extensions import db
    from portal.models import EmailNotification

    now = datetime.now(timezone.utc)
    db.session.execute(EmailNotification.__table__.insert(), [
        {"session_id": session.id, "student_profile_id": p, "token": f"token-{session.id}-{p}",
         "token_expires_at": session.starts_at, "status": "sent" if p % 10 else "failed", "attempts": 1,
         "sent_at": now, "created_at": now, "updated_at": now} for p in profiles])
    db.session.commit()
