"""The morning rush (issue 28): 20 classes of 100 students starting over the next 30 minutes,
created in shuffled order, two `python worker.py` at defaults, through a relay that holds
each reply 20 ms and serves at most 20 connections (`MAIL_MAX_CONNECTIONS=20`), PostgreSQL.

Printed: the throughput against the connection-bound limit (20 connections ÷ 4 replies ×
20 ms = 250 /s), the pairs of classes whose emails finished out of start order, and the
connections the relay saw opened. Targets: ≥ 0.9 of the limit, ≤ 10% of pairs out of order.
"""
import random
from datetime import datetime, timedelta, timezone
from itertools import combinations

from sqlalchemy import text

from bench.common import SMTPSink, make_app, postgres_url, report, workers

CLASSES, STUDENTS = 20, 100
CAP, DELAY = 20, 0.02
LIMIT = CAP / (4 * DELAY)  # messages a second when every allowed connection is busy


def run(classes: int = CLASSES, students: int = STUDENTS) -> list[dict]:
    with SMTPSink(delay=DELAY) as sink:
        app = make_app(postgres_url(), sink.port)
        with app.app_context():
            sessions = _seed(classes, students)
            rate, inversions, pairs, connections = _rush(app, sink, sessions, classes * students)
    report(f"The morning rush: {classes} classes of {students} starting over 30 minutes, created in shuffled order; "
           f"two workers; a relay holding each reply {DELAY * 1000:.0f} ms, at most {CAP} connections", [
               ("throughput", rate, "emails/s"),
               ("connection-bound limit", LIMIT, "emails/s"),
               ("throughput / limit", rate / LIMIT, "× (target ≥ 0.9)"),
               ("classes finished out of start order", inversions, f"of {pairs} pairs"),
               ("pairs out of start order", inversions / pairs, "(target ≤ 0.1)"),
               ("connections opened", connections, f"for {classes * students} emails"),
           ])
    return [
        {"name": "morning rush: throughput / limit", "ratio": rate / LIMIT, "target": 0.9, "lower_is_better": False},
        {"name": "morning rush: pairs out of start order", "ratio": inversions / pairs, "target": 0.1,
         "lower_is_better": True},
    ]


def _seed(classes: int, students: int) -> list[tuple[int, int]]:
    """One program and course per class, `students` each. (start offset in minutes, program id) per class."""
    from portal.extensions import db
    from portal.models import Course, Program, StudentProfile, User

    plans = []
    for n in range(classes):
        program = Program(code=f"P{n:02d}", name=f"Program {n}")
        db.session.add_all([program, Course(course_code=f"C{n:02d}", course_name=f"Course {n}", program=program)])
        db.session.flush()
        db.session.execute(User.__table__.insert(), [
            {"email": f"c{n:02d}-s{k}@example.edu", "first_name": "S", "last_name": "B", "role": "student",
             "is_active": True} for k in range(students)])
        plans.append((1 + n * 30 // classes, program.id))
    db.session.commit()
    users = db.session.execute(text("SELECT id, email FROM users WHERE role = 'student'")).all()
    programs = {f"c{n:02d}": program_id for n, (_, program_id) in enumerate(plans)}
    db.session.execute(StudentProfile.__table__.insert(), [
        {"user_id": user_id, "student_number": f"B{user_id:07d}", "program_id": programs[email[:3]],
         "is_active": True} for user_id, email in users])
    db.session.commit()
    return plans


def _rush(app, sink, plans, total: int) -> tuple[float, int, int, int]:
    from portal.delivery import queueing
    from portal.extensions import db
    from portal.models import AttendanceSession, Course

    order = list(plans)
    random.Random(28).shuffle(order)  # created in an order that is not the order of their start
    now = datetime.now(timezone.utc)
    starts = {}
    with workers(app, 2, MAIL_MAX_CONNECTIONS=CAP):
        sink.reset()
        for minutes, program_id in order:
            course = db.session.scalar(db.select(Course).where(Course.program_id == program_id))
            session = AttendanceSession(course=course, program_id=program_id,
                                        starts_at=now + timedelta(minutes=minutes),
                                        ends_at=now + timedelta(minutes=minutes + 60))
            db.session.add(session)
            db.session.commit()
            queueing.enqueue_generation(session.id, session.starts_at)
            starts[course.course_code[1:]] = session.starts_at
        sink.wait_for(total)
    accepted = sink.accepted()
    times = sorted(when for when, _ in accepted)
    finish = {}
    for when, recipient in accepted:
        key = recipient[1:3]
        finish[key] = max(finish.get(key, 0.0), when)
    pairs = list(combinations(sorted(starts, key=starts.get), 2))  # (earlier start, later start)
    inversions = sum(1 for earlier, later in pairs if finish[earlier] > finish[later])
    return total / (times[-1] - times[0]), inversions, len(pairs), sink.connections()
