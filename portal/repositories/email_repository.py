import functools
from collections import Counter
from datetime import datetime

from sqlalchemy import Row, String, and_, case, cast, func, literal, or_, select, type_coerce, update
from sqlalchemy.orm import joinedload, selectinload

from portal.database import UTCDateTime, driver_time, utcnow
from portal.extensions import db
from portal.models import AttendanceSession, Course, EmailNotification, StudentProfile, User
from portal.models import NotificationStatus as Status
from portal.models.notifications import new_bounce_token


class EmailNotificationRepository:
    def bulk_create(self, notifications: list[dict]) -> int:
        """Insert many rows at once and return how many were new. Rows that already exist
        for (session, student) are skipped by the database itself (ON CONFLICT DO NOTHING),
        so two concurrent runs cannot create duplicates and nothing is read first.

        The driver's fastest path is used (10,000 rows in tens of milliseconds): executemany
        on SQLite, COPY into a temporary table and one INSERT … SELECT on PostgreSQL.
        """
        if not notifications:
            return 0
        connection = db.session.connection()
        postgres = connection.dialect.name == "postgresql"
        # The rows of one session share their times: convert each distinct value once.
        to_db = functools.cache(driver_time(connection.dialect.name))
        now = to_db(utcnow())
        rows = [
            (n["session_id"], n["student_profile_id"], n["token"], to_db(n["token_expires_at"]),
             n.get("status", Status.PENDING), 0, now, now, new_bounce_token())
            for n in notifications
        ]
        if postgres:
            return _copy_insert(connection, rows)
        placeholders = ", ".join("?" * len(_BULK_COLUMNS))
        result = connection.exec_driver_sql(
            f"INSERT INTO email_notifications ({', '.join(_BULK_COLUMNS)}) VALUES ({placeholders}) "
            "ON CONFLICT (session_id, student_profile_id) DO NOTHING",
            rows,
        )
        return result.rowcount

    def get_with_history(self, notification_id: int) -> EmailNotification | None:
        """One notification with its student, session, course and attempts, in one query each."""
        query = (
            select(EmailNotification)
            .where(EmailNotification.id == notification_id)
            .options(joinedload(EmailNotification.student_profile).joinedload(StudentProfile.user),
                     joinedload(EmailNotification.session).joinedload(AttendanceSession.course),
                     selectinload(EmailNotification.attempts_log))
        )
        return db.session.scalar(query)

    def for_session(self, session_id: int, student_ids: list[int] | None = None) -> list[EmailNotification]:
        """The session's notifications (of these students only, when given)."""
        query = select(EmailNotification).where(EmailNotification.session_id == session_id)
        if student_ids is not None:
            query = query.where(EmailNotification.student_profile_id.in_(student_ids))
        return list(db.session.scalars(query))

    def of_student(self, session_id: int, student_id: int) -> EmailNotification | None:
        return db.session.scalar(select(EmailNotification).where(
            EmailNotification.session_id == session_id, EmailNotification.student_profile_id == student_id))

    def still_claimed(self, message_ids: dict[int, str]) -> set[int]:
        """Which of these rows are still `sending` under the given Message-IDs (their claim's)."""
        if not message_ids:
            return set()
        rows = db.session.execute(select(EmailNotification.id, EmailNotification.message_id).where(
            EmailNotification.id.in_(list(message_ids)), EmailNotification.status == Status.SENDING)).all()
        return {row_id for row_id, message_id in rows if message_ids[row_id] == message_id}

    def get_by_ids(self, ids: list[int]) -> list[EmailNotification]:
        return list(db.session.scalars(select(EmailNotification).where(EmailNotification.id.in_(ids))))

    def bounced_of_student(self, student_profile_id: int, now: datetime) -> list[int]:
        """Ids of the student's bounced emails whose links have not expired."""
        return list(db.session.scalars(select(EmailNotification.id).where(
            EmailNotification.student_profile_id == student_profile_id, EmailNotification.status == Status.BOUNCED,
            EmailNotification.token_expires_at > now).order_by(EmailNotification.id)))

    def get_pending_emails(self, session_id: int | None = None, now: datetime | None = None) -> list[int]:
        """Ids of pending notifications that are due (no retry wait in the future)."""
        query = select(EmailNotification.id).where(EmailNotification.status == Status.PENDING)
        if session_id is not None:
            query = query.where(EmailNotification.session_id == session_id)
        if now is not None:
            query = query.where(_due(now))
        return list(db.session.scalars(query.order_by(EmailNotification.id)))

    def claim_most_urgent(self, limit: int, now: datetime, message_id_suffix: str) -> list[int]:
        """Atomically move the `limit` most urgent due `pending` rows to `sending`, whichever send job
        queued them: earliest deadline first (the session's start, or the row's own `deadline`), ties
        to the session created first. Rows another worker is claiming are skipped, not waited for
        (PostgreSQL; SQLite has one writer at a time). The rows claimed, most urgent first."""
        most_urgent = (
            select(EmailNotification.id)
            .join(AttendanceSession, AttendanceSession.id == EmailNotification.session_id)
            .where(EmailNotification.status == Status.PENDING, _due(now))
            .order_by(*URGENCY)
            .limit(limit)
            .with_for_update(of=EmailNotification, skip_locked=True)
            # Chosen once: PostgreSQL may run a plain IN (subquery) again for each row it updates, and
            # SKIP LOCKED then finds new rows each time, so far more than `limit` would be claimed.
            .cte("most_urgent").prefix_with("MATERIALIZED", dialect="postgresql")
        )
        return self._claim(EmailNotification.id.in_(select(most_urgent.c.id)), now, message_id_suffix)

    def _claim(self, which, now: datetime, message_id_suffix: str) -> list[int]:
        """Atomically move due `pending` rows to `sending`; rows claimed elsewhere are left alone.

        A row gets its Message-ID (`<id.suffix>`) on its first claim and keeps it.
        Attempts are counted when the relay answers, not here.
        """
        message_id = literal("<") + cast(EmailNotification.id, String) + literal(f".{message_id_suffix}>")
        statement = (
            update(EmailNotification)
            .where(which, EmailNotification.status == Status.PENDING, _due(now))
            .values(
                status=Status.SENDING,
                claimed_at=now,
                updated_at=now,
                message_id=func.coalesce(EmailNotification.message_id, message_id),
            )
            .returning(EmailNotification.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(db.session.scalars(statement))

    def load_for_delivery(self, ids: list[int]) -> list[Row]:
        """Everything an email needs, in one query."""
        query = (
            select(
                EmailNotification.id,
                EmailNotification.token,
                EmailNotification.token_expires_at,
                EmailNotification.attempts,
                EmailNotification.message_id,
                EmailNotification.kind,
                EmailNotification.bounce_token,
                User.email,
                User.first_name,
                User.last_name,
                StudentProfile.language,
                AttendanceSession.starts_at,
                AttendanceSession.ends_at,
                AttendanceSession.radius_m,
                AttendanceSession.latitude,
                AttendanceSession.require_id_scan,
                AttendanceSession.room,
                AttendanceSession.cancelled_at,
                Course.course_name,
                Course.course_code,
            )
            .join(StudentProfile, StudentProfile.id == EmailNotification.student_profile_id)
            .join(User, User.id == StudentProfile.user_id)
            .join(AttendanceSession, AttendanceSession.id == EmailNotification.session_id)
            .join(Course, Course.id == AttendanceSession.course_id)
            .where(EmailNotification.id.in_(ids))
            .order_by(*URGENCY)
        )
        return list(db.session.execute(query))

    def update_status(self, notification_id: int, status: str, **fields) -> None:
        """Record an outcome (`now` is required: it stamps `updated_at`)."""
        now = fields.pop("now")
        db.session.execute(
            update(EmailNotification)
            .where(EmailNotification.id == notification_id)
            .values(status=status, updated_at=now, **fields)
            .execution_options(synchronize_session=False)
        )

    def touch_claims(self, ids: list[int], now: datetime) -> None:
        """Heartbeat: a batch still working keeps its rows from looking abandoned."""
        db.session.execute(
            update(EmailNotification)
            .where(EmailNotification.id.in_(ids), EmailNotification.status == Status.SENDING)
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )

    def release(self, ids: list[int], now: datetime, reason: str, next_attempt_at: datetime | None = None) -> int:
        """Rows this worker claimed but did not try go back to `pending`, attempts unchanged."""
        result = db.session.execute(
            update(EmailNotification)
            .where(EmailNotification.id.in_(ids), EmailNotification.status == Status.SENDING)
            .values(status=Status.PENDING, last_error=reason, next_attempt_at=next_attempt_at, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount

    def due_retries(self, due_since: datetime, now: datetime) -> list[tuple[int, int, datetime]]:
        """(session_id, id, next_attempt_at) of pending rows whose wait ended in (due_since, now]."""
        query = (
            select(EmailNotification.session_id, EmailNotification.id, EmailNotification.next_attempt_at)
            .where(
                EmailNotification.status == Status.PENDING,
                EmailNotification.next_attempt_at > due_since,
                EmailNotification.next_attempt_at <= now,
            )
            .order_by(EmailNotification.session_id, EmailNotification.id)
        )
        return [tuple(row) for row in db.session.execute(query)]

    def expired_pending(self, now: datetime) -> list[tuple[int, datetime, str | None]]:
        """(id, token_expires_at, last_error) of pending rows whose link has expired."""
        query = select(EmailNotification.id, EmailNotification.token_expires_at, EmailNotification.last_error).where(
            EmailNotification.status == Status.PENDING, EmailNotification.token_expires_at <= now)
        return [tuple(row) for row in db.session.execute(query)]

    def release_abandoned(self, claimed_before: datetime, now: datetime) -> list[int]:
        """Rows left in `sending` by a dead worker go back to `pending`."""
        statement = (
            update(EmailNotification)
            .where(EmailNotification.status == Status.SENDING, EmailNotification.claimed_at < claimed_before)
            .values(
                status=Status.PENDING,
                last_error="The worker sending this email stopped; it will be sent again",
                next_attempt_at=None,
                updated_at=now,
            )
            .returning(EmailNotification.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(db.session.scalars(statement))

    def stale_pending(self, untouched_since: datetime | None, now: datetime) -> list[tuple[int, int]]:
        """(session_id, id) of due pending rows nobody has touched since `untouched_since` (None: all)."""
        untouched = [] if untouched_since is None else [EmailNotification.updated_at < untouched_since]
        query = (
            select(EmailNotification.session_id, EmailNotification.id)
            .where(
                EmailNotification.status == Status.PENDING,
                *untouched,
                _due(now),
            )
            .order_by(EmailNotification.session_id, EmailNotification.id)
        )
        return [tuple(row) for row in db.session.execute(query)]

    def reset_to_pending(self, ids: list[int], now: datetime, deadline: datetime | None = None) -> None:
        """`deadline`: when they should be out, if not by their session's start (an admin's bulk retry)."""
        db.session.execute(
            update(EmailNotification)
            .where(EmailNotification.id.in_(ids))
            .values(status=Status.PENDING, sent_at=None, attempts=0, next_attempt_at=None, updated_at=now,
                    deadline=deadline)
            .execution_options(synchronize_session=False)
        )


    def counts_by_status(self) -> Counter:
        query = select(EmailNotification.status, func.count()).group_by(EmailNotification.status)
        return Counter(dict(db.session.execute(query).all()))

    def waiting_by_deadline(self, now: datetime) -> list[Row]:
        """(session_id, course_code, starts_at, deadline, waiting, not_before) for the emails pending or
        sending, a row per session and deadline (an admin's bulk retry has its own, later one), most
        urgent first: the order the workers send them in (URGENCY). The emails waiting to be tried
        again after `now` are a row of their own, `not_before` the latest time one may be tried (None
        for the emails that may go at once)."""
        deadline = type_coerce(URGENCY[0], UTCDateTime).label("deadline")
        later = and_(EmailNotification.status == Status.PENDING, EmailNotification.next_attempt_at > now)
        query = (
            select(AttendanceSession.id.label("session_id"), Course.course_code, AttendanceSession.starts_at,
                   deadline, func.count().label("waiting"),
                   type_coerce(func.max(case((later, EmailNotification.next_attempt_at))), UTCDateTime)
                   .label("not_before"))
            .select_from(EmailNotification)
            .join(AttendanceSession, AttendanceSession.id == EmailNotification.session_id)
            .join(Course, Course.id == AttendanceSession.course_id)
            .where(EmailNotification.status.in_((Status.PENDING, Status.SENDING)))
            .group_by(AttendanceSession.id, Course.course_code, AttendanceSession.starts_at, deadline, later)
            .order_by(deadline, AttendanceSession.id)
        )
        return list(db.session.execute(query).all())

    def counts_by_session(self, session_ids: list[int]) -> dict[int, Counter]:
        """Per-status counts for many sessions in one GROUP BY."""
        counts = {session_id: Counter() for session_id in session_ids}
        if session_ids:
            query = (
                select(EmailNotification.session_id, EmailNotification.status, func.count())
                .where(EmailNotification.session_id.in_(session_ids))
                .group_by(EmailNotification.session_id, EmailNotification.status)
            )
            for session_id, status, number in db.session.execute(query):
                counts[session_id][status] = number
        return counts

    def search(self, *, lecturer_id: int | None, session_id: int | None, status: str | None, text: str | None,
               page: int, per_page: int = 50):
        """A page of notifications with their students: one session's in order, or all, newest first.

        Two queries whatever the number of rows: the page (walking the (session, id) index,
        students joined for those rows only) and the total (counted on the notifications
        table alone, joined to students only when searching by name). The lists of register-only
        sessions are not emails and are left out.
        """
        filters = [EmailNotification.status != Status.NOT_EMAILED]
        if lecturer_id is not None:
            own = select(AttendanceSession.id).where(AttendanceSession.lecturer_id == lecturer_id)
            filters.append(EmailNotification.session_id.in_(own))
        if session_id is not None:
            filters.append(EmailNotification.session_id == session_id)
        if status:
            filters.append(EmailNotification.status == status)
        if text:
            pattern = f"%{_escape_like(text.strip().lower())}%"
            matching = (
                select(StudentProfile.id)
                .join(User, User.id == StudentProfile.user_id)
                .where(or_(
                    func.lower(User.first_name + " " + User.last_name).like(pattern, escape="\\"),
                    func.lower(User.email).like(pattern, escape="\\"),
                    func.lower(StudentProfile.student_number).like(pattern, escape="\\"),
                ))
            )
            filters.append(EmailNotification.student_profile_id.in_(matching))
        rows = (
            select(EmailNotification)
            .where(*filters)
            .options(joinedload(EmailNotification.student_profile).joinedload(StudentProfile.user),
                     joinedload(EmailNotification.session))
        )
        if session_id is not None:
            rows = rows.order_by(EmailNotification.id)
        else:
            rows = rows.order_by(EmailNotification.session_id.desc(), EmailNotification.id.desc())
        pagination = db.paginate(rows, page=page, per_page=per_page, error_out=False, count=False)
        pagination.total = db.session.scalar(select(func.count()).select_from(EmailNotification).where(*filters))
        return pagination


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_BULK_COLUMNS = ("session_id", "student_profile_id", "token", "token_expires_at", "status", "attempts",
                 "created_at", "updated_at", "bounce_token")


def _copy_insert(connection, rows: list[tuple]) -> int:
    columns = ", ".join(_BULK_COLUMNS)
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS new_email_notifications (session_id integer, student_profile_id integer, "
        "token text, token_expires_at timestamp, status varchar(16), attempts integer, created_at timestamp, "
        "updated_at timestamp, bounce_token varchar(32)) ON COMMIT DROP"
    )
    cursor.execute("TRUNCATE new_email_notifications")
    with cursor.copy(f"COPY new_email_notifications ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(
        f"INSERT INTO email_notifications ({columns}) SELECT {columns} FROM new_email_notifications "
        "ON CONFLICT (session_id, student_profile_id) DO NOTHING"
    )
    return cursor.rowcount


# Most urgent first: the earliest deadline (the session's start, or the row's own when that is later:
# an admin's bulk retry gives way), ties to the session created first, then the student's row. Needs
# AttendanceSession joined.
URGENCY = (case((EmailNotification.deadline > AttendanceSession.starts_at, EmailNotification.deadline),
                else_=AttendanceSession.starts_at),
           EmailNotification.session_id, EmailNotification.id)


def _due(now: datetime):
    return or_(EmailNotification.next_attempt_at.is_(None), EmailNotification.next_attempt_at <= now)
