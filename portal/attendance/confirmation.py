"""AttendanceService: what a student's link stands for, and recording attendance once.

Opening a link (`check`) never writes anything, so mail scanners that open every
link cannot use it up; only `record` (a POST) writes, and the unique constraint on
(session, student) lets exactly one of two simultaneous confirmations win.

A session with a location checks the phone's position with its reported error
(portal.attendance.position): a student the phone places near enough, but not surely
inside, is recorded and flagged for the lecturer, never turned away for the phone's error.

A session may also require the student's card: the page scans its QR code and the scan
must be the student's card code, so a forwarded link alone is not enough. A student
who cannot scan (a broken camera, a dark room) still confirms, flagged for the lecturer
to accept or reject: a broken phone must not make a present student absent.
"""
import hmac
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import link_window
from portal.attendance import position
from portal.attendance.geo import haversine_m
from portal.attendance.position import Verdict
from portal.database import utcnow
from portal.exceptions import (
    AlreadyRecordedError,
    AttendanceRefusedError,
    DetailsMissingError,
    ExpiredTokenError,
    InvalidTokenError,
    LinkExpiredError,
    LinkNotValidError,
    LinkTargetGoneError,
    LinkWithdrawnError,
    NotOpenYetError,
    NotYourCardError,
    TooFarError,
    TooRoughError,
)
from portal.extensions import db
from portal.models import (
    AttendanceRecord,
    AttendanceSession,
    CardCheck,
    NotificationStatus,
    StudentProfile,
)
from portal.repositories import EmailNotificationRepository, get
from portal.repositories.attendance_repository import AttendanceRepository
from portal.services.jwt_service import JWTTokenService
from portal.students import card_codes
from portal.timefmt import day_name, zoned_time

LOCATION_UNREADABLE = _l("Your location could not be read. Please try again.")


@dataclass
class Ticket:
    """A valid, unused link: whose it is and for which session."""

    session: AttendanceSession
    profile: StudentProfile


@dataclass
class Fix:
    """Where the phone said it was: `accuracy` is its 95% radius in metres (None: not reported)."""

    latitude: float | None = None
    longitude: float | None = None
    accuracy: float | None = None

    def check(self) -> "Fix":
        """DetailsMissingError unless every number is one a phone can report (NaN fails every
        comparison and infinity every range); checked even where no location is needed, as
        the position is kept as evidence. An accuracy without a position is dropped."""
        if (self.latitude is not None and not -90 <= self.latitude <= 90) or (
                self.longitude is not None and not -180 <= self.longitude <= 180) or (
                self.accuracy is not None and not 0 <= self.accuracy < 1e7):
            raise DetailsMissingError(LOCATION_UNREADABLE)
        if self.latitude is None or self.longitude is None:
            self.accuracy = None
        return self


@dataclass
class Where:
    """The position check's result, as the record keeps it."""

    distance: float | None = None
    uncertain: bool = False


class AttendanceService:
    def __init__(self, jwt_service: JWTTokenService, clock=utcnow):
        self.jwt = jwt_service
        self.now = clock

    def language_of(self, token: str) -> str | None:
        """The recorded language of the link's student (an expired link's too), so that every page
        the link leads to, refusals included, is in it; None when the link names no student we know."""
        try:
            profile_id = self.jwt.decode_token(token)["student_profile_id"]
        except ExpiredTokenError as exc:
            profile_id = exc.student_profile_id
        except InvalidTokenError:
            return None
        profile = get(StudentProfile, profile_id) if profile_id else None
        return profile.language if profile is not None else None

    def check(self, token: str) -> Ticket:
        """Raise an AttendanceError saying why, unless the link can be used now."""
        try:
            payload = self.jwt.decode_token(token)
        except ExpiredTokenError as exc:
            session = get(AttendanceSession, exc.session_id) if exc.session_id else None
            if session is not None and session.cancelled:
                raise _cancelled(session) from None
            raise LinkExpiredError(_expired(session, exc.expired_at), session) from None
        except InvalidTokenError:
            raise LinkNotValidError(_("This link is not valid. Open the link from your most recent email.")) from None
        session = get(AttendanceSession, payload["session_id"])
        if session is None:
            raise LinkTargetGoneError(_("This session no longer exists."))
        profile = get(StudentProfile, payload["student_profile_id"])
        if profile is None:
            raise LinkTargetGoneError(_("This student account no longer exists."), session)
        if not (profile.is_active and profile.user.is_active):
            raise AttendanceRefusedError(_("This student account is not active. Please speak to your lecturer."),
                                         session)
        self._still_stands(token, session, profile)
        existing = self._existing(session.id, profile.id)
        if existing is not None:
            raise _already_recorded(session, existing)
        opens, now = link_window.opens(session.starts_at), self.now()
        if now < opens:
            raise NotOpenYetError(_("%(course)s opens for attendance on %(day)s at %(time)s.",
                                    course=session.course.course_name, day=day_name(opens), time=zoned_time(opens)),
                                  session, opens, (opens - now).total_seconds())
        return Ticket(session, profile)

    def record(self, token: str, latitude: float | None, longitude: float | None,
               ip_address: str | None = None, user_agent: str | None = None, *,
               id_scan: str | None = None, without_card: bool = False,
               accuracy: float | None = None) -> AttendanceRecord:
        """`id_scan`: what the page read from the card's QR code; `without_card`: the student
        chose "Can't scan?". Both are ignored where the session needs no scan. `accuracy`: the
        phone's reported error of `latitude`/`longitude`, in metres."""
        return self.record_for(self.check(token), Fix(latitude, longitude, accuracy), ip_address, user_agent,
                               id_scan=id_scan, without_card=without_card)

    def record_for(self, ticket: Ticket, fix: Fix, ip_address: str | None = None, user_agent: str | None = None,
                   *, id_scan: str | None = None, without_card: bool = False) -> AttendanceRecord:
        """Record attendance for a ticket `check` gave; a TryAgainError leaves the link unused."""
        fix = fix.check()
        where = self._where(ticket.session, fix)
        card_check = self._card_check(ticket, id_scan, without_card)
        record = AttendanceRecord(
            session_id=ticket.session.id,
            student_profile_id=ticket.profile.id,
            recorded_at=self.now(),
            latitude=fix.latitude,
            longitude=fix.longitude,
            accuracy_m=fix.accuracy,
            distance_m=where.distance,
            position_uncertain=where.uncertain,
            ip_address=(ip_address or "")[:45] or None,
            user_agent=(user_agent or "")[:400] or None,
            card_check=card_check,
        )
        db.session.add(record)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise _already_recorded(ticket.session, self._existing(ticket.session.id, ticket.profile.id)) from None
        return record

    @staticmethod
    def _where(session: AttendanceSession, fix: Fix) -> Where:
        if not session.has_location:
            return Where()
        if fix.latitude is None or fix.longitude is None:
            raise DetailsMissingError(_("Your location is needed to confirm attendance for this session. "
                                        "Allow location access for this page and try again."), session)
        distance = haversine_m(fix.latitude, fix.longitude, session.latitude, session.longitude)
        verdict = position.judge(distance, fix.accuracy, session.radius_m,
                                 current_app.config["ATTENDANCE_MAX_ACCURACY_METRES"])
        if verdict == Verdict.TOO_ROUGH:
            raise TooRoughError(_("You are about %(distance)s m from the session location, but your phone's "
                                  "position is only known to ±%(accuracy)s m: turn on precise location, step near a "
                                  "window, and try again.", distance=round(distance), accuracy=round(fix.accuracy)),
                                session)
        if verdict == Verdict.TOO_FAR:
            if fix.accuracy is None:
                raise TooFarError(_("You are about %(distance)s m from the session location. You need to be within "
                                    "%(radius)s m to confirm: move closer to the room and try again.",
                                    distance=round(distance), radius=session.radius_m), session)
            raise TooFarError(_("You are about %(distance)s m from the session location (your phone's position is "
                                "known to ±%(accuracy)s m). You need to be within %(radius)s m to confirm: move "
                                "closer to the room and try again.", distance=round(distance),
                                accuracy=round(fix.accuracy), radius=session.radius_m), session)
        return Where(distance, uncertain=verdict == Verdict.UNCERTAIN)

    @staticmethod
    def _card_check(ticket: Ticket, id_scan: str | None, without_card: bool) -> CardCheck:
        if not ticket.session.require_id_scan:
            return CardCheck.NOT_REQUIRED
        if id_scan:
            if not card_codes.matches(id_scan, ticket.profile.card_code):
                raise NotYourCardError(_("This is not your student card. Scan your own card, or choose "
                                         "“Can't scan?” below and your lecturer will check."), ticket.session)
            return CardCheck.SCANNED
        if without_card:
            return CardCheck.NOT_SCANNED
        raise DetailsMissingError(_("This session needs your student card scanned. Tap the button and show your "
                                    "card's QR code to the camera, or choose “Can't scan?”."), ticket.session)

    @staticmethod
    def _still_stands(token: str, session: AttendanceSession, profile: StudentProfile) -> None:
        """The link is the one in the student's newest email about a session still on."""
        if session.cancelled:
            raise _cancelled(session)
        notification = EmailNotificationRepository().of_student(session.id, profile.id)
        if notification is None or notification.status == NotificationStatus.WITHDRAWN:
            raise LinkWithdrawnError(_("This link no longer works: %(course)s on %(day)s is no longer on your list. "
                                       "If you are in this class, speak to your lecturer.",
                                       course=session.course.course_name, day=day_name(session.starts_at)), session)
        if not hmac.compare_digest(notification.token.encode(), token.encode()):
            raise LinkWithdrawnError(_("This session was changed; use the newest email about %(course)s.",
                                       course=session.course.course_name), session, next_step="newest_email")

    @staticmethod
    def _existing(session_id: int, profile_id: int) -> AttendanceRecord | None:
        return AttendanceRepository().record_of(session_id, profile_id)


def _cancelled(session: AttendanceSession) -> LinkWithdrawnError:
    return LinkWithdrawnError(_("This session was cancelled: %(course)s on %(day)s at %(time)s will not take place.",
                                course=session.course.course_name, day=day_name(session.starts_at),
                                time=zoned_time(session.starts_at)), session)


def _expired(session: AttendanceSession | None, expired_at) -> str:
    """What an expired link says: for which class and when, as far as the link tells."""
    if session is None:
        return _("This link expired at %(time)s.", time=zoned_time(expired_at)) if expired_at else \
            _("This link expired.")
    course, day = session.course.course_name, day_name(session.starts_at)
    if expired_at is None:
        return _("This link for %(course)s on %(day)s expired.", course=course, day=day)
    return _("This link for %(course)s on %(day)s expired at %(time)s.", course=course, day=day,
             time=zoned_time(expired_at))


def _already_recorded(session: AttendanceSession, existing: AttendanceRecord | None) -> AlreadyRecordedError:
    course, day = session.course.course_name, day_name(session.starts_at)
    if existing is None:
        return AlreadyRecordedError(_("Attendance already recorded for %(course)s on %(day)s.", course=course,
                                      day=day), session)
    return AlreadyRecordedError(_("Attendance already recorded at %(time)s for %(course)s on %(day)s.",
                                  time=zoned_time(existing.recorded_at), course=course, day=day), session)
