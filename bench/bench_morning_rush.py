"""The morning rush (issue 28): 20 classes of 100 students starting over the next 30 minutes,
created in shuffled order, two `python worker.py` at defaults, through a relay that holds
each reply 20 ms and serves at most 20 connections (`MAIL_MAX_CONNECTIONS=20`), PostgreSQL.

Printed: the throughput against the connection-bound limit (20 connections ÷ 4 replies ×
20 ms = 250 /s), the pairs of classes whose emails finished out of start order, and the
connections the relay saw opened. Targets: ≥ 0.9 of the limit, ≤ 10% of pairs out of order.
"""
import random
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from itertools import combinations
from pathlib import Path

from sqlalchemy import text

from bench.common import SMTPSink, make_app, postgres_url, report, workers

CLASSES, STUDENTS = 20, 100
CAP, DELAY = 20, 0.02
LIMIT = CAP / (4 * DELAY)  # messages a second when every allowed connection is busy


def run(classes: int = CLASSES, students: int = STUDENTS) -> list[dict]:
    results = []
    for relays in (1, 2):
        with ExitStack() as stack:
            sinks = [stack.enter_context(SMTPSink(delay=DELAY)) for _ in range(relays)]
            app = make_app(postgres_url(), sinks[0].port)
            with app.app_context():
                plans = _seed(classes, students)
                with _relays_file(sinks) as settings:
                    rate, inversions, pairs, connections = _rush(app, sinks, plans, classes * students, settings)
        cap = CAP // relays
        what = "one relay capped at 20 connections" if relays == 1 else f"two relays each capped at {cap}"
        report(f"The morning rush: {classes} classes of {students} starting over 30 minutes, created in shuffled "
               f"order; two workers; {what}, holding each reply {DELAY * 1000:.0f} ms", [
                   ("throughput", rate, "emails/s"),
                   ("connection-bound limit", LIMIT, "emails/s"),
                   ("throughput / limit", rate / LIMIT, "× (target ≥ 0.9)"),
                   ("classes finished out of start order", inversions, f"of {pairs} pairs"),
                   ("pairs out of start order", inversions / pairs, "(target ≤ 0.1)"),
                   ("connections opened", connections, f"for {classes * students} emails"),
               ])
        label = "" if relays == 1 else " (two relays)"
        results += [
            {"name": f"morning rush{label}: throughput / limit", "ratio": rate / LIMIT, "target": 0.9,
             "lower_is_better": False},
            {"name": f"morning rush{label}: pairs out of start order", "ratio": inversions / pairs, "target": 0.1,
             "lower_is_better": True},
        ]
    return results


@contextmanager
def _relays_file(sinks: list[SMTPSink]):
    """The workers' settings: MAIL_MAX_CONNECTIONS for one relay, or a MAIL_RELAYS_FILE sharing the cap."""
    if len(sinks) == 1:
        yield {"MAIL_MAX_CONNECTIONS": CAP}
        return
    from portal.delivery.relays import as_toml

    path = Path(tempfile.mkstemp(prefix="relays-", suffix=".toml")[1])
    path.write_text(as_toml([{"name": f"relay{n}", "server": "127.0.0.1", "port": sink.port,
                              "sender": "attendance@example.edu", "max_connections": CAP // len(sinks)}
                             for n, sink in enumerate(sinks, start=1)]))
    try:
        yield {"MAIL_RELAYS_FILE": str(path)}
    finally:
        path.unlink()


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


def _rush(app, sinks, plans, total: int, settings: dict) -> tuple[float, int, int, int]:
    from portal.delivery import queueing
    from portal.extensions import db
    from portal.models import AttendanceSession, Course

    order = list(plans)
    random.Random(28).shuffle(order)  # created in an order that is not the order of their start
    now = datetime.now(timezone.utc)
    starts = {}
    with workers(app, 2, **settings):
        for sink in sinks:
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
        deadline = time.monotonic() + 600
        while sum(len(sink.received()) for sink in sinks) < total:
            if time.monotonic() > deadline:
                raise TimeoutError("the relays did not get every email within 10 minutes")
            time.sleep(0.02)
    accepted = [item for sink in sinks for item in sink.accepted()]
    times = sorted(when for when, _ in accepted)
    finish = {}
    for when, recipient in accepted:
        key = recipient[1:3]
        finish[key] = max(finish.get(key, 0.0), when)
    pairs = list(combinations(sorted(starts, key=starts.get), 2))  # (earlier start, later start)
    inversions = sum(1 for earlier, later in pairs if finish[earlier] > finish[later])
    return total / (times[-1] - times[0]), inversions, len(pairs), sum(sink.connections() for sink in sinks)
