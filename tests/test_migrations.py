"""`flask db upgrade` on an empty database builds exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portal.extensions import db


def test_upgrade_from_empty_matches_the_models(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        try:
            tables = set(inspect(db.engine).get_table_names())
            assert {"users", "student_profiles", "programs", "streams", "courses", "attendance_sessions",
                    "email_notifications", "attendance_records"} <= tables
            with db.engine.connect() as connection:
                diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert diff == []
        finally:
            downgrade(revision="base")
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_each_email_gets_the_relay_of_its_latest_try_and_where_it_was_sent(app):
    """c6e2a8d4f190 fills email_notifications.last_relay from the history and, for emails sent,
    sent_to with the student's address, on a database with emails."""
    from tests.factories import make_course, make_program, make_session, make_students

    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="b3d9f1c7e520")
        try:
            course = make_course(make_program())
            session = make_session(course)
            students = make_students(course.program, 3)
            with db.engine.begin() as connection:
                for student in students:
                    connection.execute(text(
                        "INSERT INTO email_notifications (session_id, student_profile_id, token, token_expires_at, "
                        "status, kind, attempts, sent_at, created_at, updated_at) VALUES (:session, :student, "
                        ":token, :now, :status, 'invitation', 1, :sent_at, :now, :now)"),
                        {"session": session.id, "student": student.id, "token": f"t{student.id}",
                         "now": session.starts_at, "status": "pending" if student is students[2] else "sent",
                         "sent_at": None if student is students[2] else session.starts_at})
                ids = list(connection.scalars(text("SELECT id FROM email_notifications ORDER BY id")))
                tries = [(ids[0], "campus"), (ids[0], "backup"), (ids[1], "campus"), (ids[1], None)]
                for notification_id, relay in tries:
                    connection.execute(text(
                        "INSERT INTO delivery_attempts (notification_id, attempted_at, outcome, relay) "
                        "VALUES (:id, :now, 'sent', :relay)"), {"id": notification_id, "relay": relay,
                                                                "now": session.starts_at})
            upgrade()
            with db.engine.connect() as connection:
                found = {row.id: (row.last_relay, row.sent_to) for row in connection.execute(
                    text("SELECT id, last_relay, sent_to FROM email_notifications"))}
            assert found == {ids[0]: ("backup", students[0].user.email), ids[1]: (None, students[1].user.email),
                             ids[2]: (None, None)}
        finally:
            db.session.remove()
            present = set(inspect(db.engine).get_table_names())
            with db.engine.begin() as connection:  # SQLite's downgrade cannot drop tables that rows point to
                for table in reversed(db.metadata.sorted_tables):
                    if table.name in present:
                        connection.execute(table.delete())
            downgrade(revision="base")
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
