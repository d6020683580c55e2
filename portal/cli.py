"""`flask --app wsgi …` commands. Bad input exits non-zero with one readable line."""
import functools
import secrets
from datetime import datetime, time
from pathlib import Path

import click
from flask import Flask, current_app
from redis.exceptions import RedisError

from portal import catalog
from portal.delivery import control, queueing
from portal.delivery.queueing import get_redis
from portal.delivery.sweep import describe, run_sweep
from portal.exceptions import ConflictError, GoneError, PlanChanged, ValidationError
from portal.models import NotificationStatus
from portal.repositories import EmailNotificationRepository
from portal.sessions import planning
from portal.staff import accounts
from portal.students.importing import decode as decode_upload
from portal.students.importing import import_students
from portal.students.sync import apply_sync, plan_sync
from portal.students.sync import summary as sync_summary
from portal.timefmt import local_datetime, portal_zone


def refusals_in_one_line(command):
    """A domain refusal (bad input, a conflict, something gone) ends the command with its one
    readable line and exit status 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ValidationError as exc:
            raise click.ClickException(exc.one_line()) from None
        except (ConflictError, GoneError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def init_app(app: Flask) -> None:
    for command in (create_user, set_password, create_program, create_course, assign_lecturer, import_students_command,
                    create_session,
                    seed_demo, sweep, delivery):
        app.cli.add_command(command)


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in accounts.STAFF_ROLES]))
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@refusals_in_one_line
def create_user(email, password, role, first_name, last_name):
    """Create a staff account (admin or lecturer)."""
    user = accounts.create_user(email, password, role, first_name, last_name)
    click.echo(f"Created {user.role} {user.email}")


@click.command("set-password")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@refusals_in_one_line
def set_password(email, password):
    """Set a staff account's password; every session signed in with the old one ends."""
    user = accounts.set_password(email, password)
    click.echo(f"Password changed for {user.email}; its other sign-ins have ended")


@click.command("create-program")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--streams", default="", help='Comma-separated stream names, e.g. "A,B".')
@refusals_in_one_line
def create_program(code, name, streams):
    """Create a program, optionally with streams."""
    program = catalog.create_program(code, name, streams.split(","))
    click.echo(f"Created program {program.code} with {len(program.streams)} streams")


@click.command("create-course")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--program", "program_code", required=True, help="Program code.")
@refusals_in_one_line
def create_course(code, name, program_code):
    """Create a course in a program."""
    course = catalog.create_course(code, name, program_code)
    click.echo(f"Created course {course.course_code}")


@click.command("assign-lecturer")
@click.option("--course", "course_code", required=True, help="Course code.")
@click.option("--email", required=True, help="The lecturer's email.")
@click.option("--remove", is_flag=True, help="Take them off the course instead (their sessions stay).")
@refusals_in_one_line
def assign_lecturer(course_code, email, remove):
    """Assign a lecturer to teach a course (they create its sessions and see its register)."""
    click.echo(catalog.assign_lecturer(course_code, email, remove=remove))


@click.command("import-students")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice(["add", "sync"]), default="add", show_default=True,
              help="add: every student is new. sync: update students by student number and add new ones.")
@click.option("--deactivate-missing", is_flag=True,
              help="With --mode sync: deactivate students of the file's programs who are not in it.")
@click.option("--yes", is_flag=True, help="With --mode sync: apply without asking.")
def import_students_command(csv_file: Path, mode: str, deactivate_missing: bool, yes: bool):
    """Import students from CSV: all rows, or none if any row is bad. A sync shows its changes first."""
    try:
        text = decode_upload(csv_file.read_bytes())
        if mode == "add":
            click.echo(f"Imported {import_students(text)} students")
            return
        plan = plan_sync(text, deactivate_missing)
    except ValidationError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        raise click.ClickException("nothing imported: fix the problems listed above") from None
    click.echo(f"Sync with {csv_file.name}: {sync_summary(plan)}")
    for change in plan.changed[:50]:
        click.echo(f"  update {change.student_number}: " + "; ".join(
            f"{name.replace('_', ' ')} {change.before[name] or '—'} → {change.after[name] or '—'}"
            for name in change.before))
    for student in plan.added[:50]:
        click.echo(f"  add {student['student_number']}: {student['first_name']} {student['last_name']}")
    for leaving in plan.deactivated[:50]:
        click.echo(f"  deactivate {leaving.student_number}: {leaving.name}")
    if plan.empty:
        click.echo("Nothing to change")
        return
    if not yes:
        click.confirm("Apply these changes?", abort=True)
    try:
        apply_sync(text, deactivate_missing, plan.fingerprint, by=None)
    except PlanChanged:
        raise click.ClickException("the students changed meanwhile; nothing was changed, run it again") from None
    click.echo("Sync done")


@click.command("create-session")
@click.option("--course", "course_code", required=True, help="Course code.")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--start", required=True, help="HH:MM, in PORTAL_TIMEZONE")
@click.option("--end", required=True, help="HH:MM, in PORTAL_TIMEZONE")
@click.option("--program", "program_code", help="Program code (default: the course's program).")
@click.option("--stream", "stream_name", help="Stream name (default: the whole program).")
@click.option("--lecturer", "lecturer_email", help="Lecturer's email.")
@click.option("--latitude", type=float)
@click.option("--longitude", type=float)
@click.option("--radius", "radius_m", type=int, help="Metres around the point (default: ATTENDANCE_RADIUS_METRES).")
@click.option("--room", help="Where the class meets, shown to students.")
@click.option("--require-id-scan/--no-require-id-scan", default=None,
              help="Students must scan their student card (default: ATTENDANCE_REQUIRE_ID_SCAN).")
@click.option("--notify-minutes-before", type=int,
              help="Email the students this many minutes before the start (default: at once).")
@click.option("--register-only", is_flag=True,
              help="No emails and no links: the class is marked by hand (allowed in the past).")
@click.option("--repeat-weeks", type=int, default=0, show_default=True,
              help="Also create the same session each week for this many weeks (needs --notify-minutes-before).")
@refusals_in_one_line
def create_session(course_code, day, start, end, program_code, stream_name, lecturer_email, latitude, longitude,
                   radius_m, room, require_id_scan, notify_minutes_before, register_only, repeat_weeks):
    """Create an attendance session (or a weekly series) and queue or schedule its notifications."""
    named = planning.by_codes(course_code, program_code, stream_name, lecturer_email)
    request = planning.SessionRequest(
        **named,
        starts_at=_local_moment(day, start),
        ends_at=_local_moment(day, end),
        latitude=latitude,
        longitude=longitude,
        radius_m=current_app.config["ATTENDANCE_RADIUS_METRES"] if radius_m is None else radius_m,
        require_id_scan=(current_app.config["ATTENDANCE_REQUIRE_ID_SCAN"] if require_id_scan is None
                         else require_id_scan),
        room=(room or "").strip() or None,
        notify_minutes_before=notify_minutes_before,
        register_only=register_only,
        repeat_weeks=repeat_weeks,
    )
    sessions = planning.create_sessions(request)
    queued = all([queueing.enqueue_generation_if_due(session) for session in sessions])
    for session in sessions:
        if session.register_only:
            note = "register only: no emails, mark attendance by hand"
        elif not queued:
            note = "queue unreachable: the sweep will queue its notifications"
        elif session.scheduled:
            note = f"notifications scheduled for {local_datetime(session.notify_at)}"
        else:
            note = "notifications queued"
        click.echo(f"Created session {session.id}; {note}")


def _local_moment(day: datetime, hhmm: str) -> datetime:
    try:
        clock = time.fromisoformat(hhmm)
    except ValueError:
        raise click.ClickException(f"{hhmm!r} is not a time (HH:MM)") from None
    return datetime.combine(day.date(), clock, tzinfo=portal_zone())


@click.command("sweep")
def sweep():
    """Run the periodic sweep once: queue whatever is waiting, recover stuck sends."""
    summary = run_sweep()
    click.echo(describe(summary))
    if not summary["queue_reachable"]:
        raise click.ClickException("the queue (Redis) is unreachable: nothing was queued; "
                                   "waiting emails go out automatically once it is back")


@click.group("delivery")
def delivery():
    """See, pause or resume email delivery, through every relay or one (--relay NAME)."""


RELAY_OPTION = click.option("--relay", "relay_name", metavar="NAME",
                            help="One relay (MAIL_RELAYS_FILE's name; 'default' without the file). Default: all.")


@delivery.command("status")
@RELAY_OPTION
@refusals_in_one_line
def delivery_status_command(relay_name):
    """Running or paused (why, since when), each relay's pace and what it sent, what waits."""
    _redis()
    state = control.current_state()
    shown = [relay.name for relay in control.chosen(relay_name)]
    if state.pause and not relay_name:
        click.echo(f"Delivery paused since {local_datetime(state.pause.since)} by {state.pause.by}: "
                   f"{state.pause.reason}")
        if state.pause.last_probe:
            click.echo(f"Last probe of the mail server: {state.pause.last_probe}")
    elif not relay_name:
        click.echo("Delivery running.")
    for relay in (relay for relay in state.relays if relay.relay.name in shown):
        click.echo(relay_line(relay))
    counts = EmailNotificationRepository().counts_by_status()
    click.echo(", ".join(f"{status}: {counts.get(status, 0)}" for status in NotificationStatus))


def relay_line(state: control.RelayState) -> str:
    """One relay's state in one line: the same facts as its row on Admin → Delivery queue."""
    relay = state.relay
    if state.pause:
        words = [f"paused since {local_datetime(state.pause.since)} by {state.pause.by}: {state.pause.reason}"]
    elif state.at_daily_cap:
        words = [f"at its daily cap ({relay.daily_limit} in 24 hours)"]
    else:
        words = ["running"]
    if state.pace:
        words.append(f"asked to slow down: at most {state.pace:.1f} emails a second for now")
    sent = f"sent {state.sent_last_hour} in the last hour, {state.sent_last_day} in 24 hours"
    words.append(sent + (f" of {relay.daily_limit}" if relay.daily_limit else ""))
    if relay.rate_limit:
        words.append(f"rate limit {relay.rate_limit}")
    if relay.max_connections:
        words.append(f"{state.connections} of {relay.max_connections} connections open")
    return f"Relay {relay.name} ({relay.where}): " + "; ".join(words)


@delivery.command("pause")
@click.option("--reason", default="Paused by an operator", help="Shown to admins while paused.")
@RELAY_OPTION
@refusals_in_one_line
def delivery_pause_command(reason, relay_name):
    """Pause delivery: emails wait (and keep their attempts) until `resume`; with --relay, only that
    relay pauses and the others carry its share."""
    _redis()
    what = f"Delivery through {relay_name}" if relay_name else "Delivery"
    click.echo(f"{what} paused." if control.pause_by_hand(None, reason, relay_name)
               else f"{what} was already paused.")


@delivery.command("resume")
@RELAY_OPTION
@refusals_in_one_line
def delivery_resume_command(relay_name):
    """Resume delivery (every relay, or --relay NAME) and queue every email that waited."""
    _redis()
    what = f"Delivery through {relay_name}" if relay_name else "Delivery"
    queued = control.resume_by_hand(None, relay_name)
    click.echo(f"{what} was not paused." if queued is None else f"{what} resumed; {queued} waiting emails queued.")


@delivery.command("read-bounces")
def delivery_read_bounces_command():
    """Read the bounce mailbox (BOUNCE_IMAP_URL) now, as the workers do every BOUNCE_POLL_SECONDS."""
    from portal.bounces.mailbox import MailboxError
    from portal.bounces.reading import read_bounces

    if not current_app.config["BOUNCE_IMAP_URL"]:
        raise click.ClickException("BOUNCE_IMAP_URL is not set: there is no bounce mailbox to read")
    try:
        counts = read_bounces()
    except MailboxError as exc:
        raise click.ClickException(str(exc)) from None
    words = {"bounced": "bounced", "delayed": "delay reported", "duplicate": "read before",
             "unmatched": "about no email of the portal's (left in the mailbox)",
             "not_bounce": "not bounce reports (left in the mailbox)",
             "unreadable": "unreadable (left in the mailbox)"}
    click.echo("Bounce mailbox read: " + (", ".join(f"{counts[key]} {word}" for key, word in words.items()
                                                     if counts.get(key)) or "nothing new") + ".")


def _redis():
    redis = get_redis()
    try:
        redis.ping()
    except RedisError as exc:
        raise click.ClickException(f"the queue (Redis) is unreachable: {exc}") from None
    return redis


@click.command("seed-demo")
@click.option("--password", help="Password for the demo admin and lecturer (default: random, printed).")
@refusals_in_one_line
def seed_demo(password):
    """Create demo programs, courses, an admin, a lecturer and 60 students."""
    from portal.demo_data import seed

    password = password or secrets.token_urlsafe(9)
    created = seed(password)
    click.echo("Demo data created. Sign in with:")
    for role, email in created:
        click.echo(f"  {role:9} {email}  password: {password}")
