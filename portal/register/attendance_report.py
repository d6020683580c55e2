"""The lecturer's evidence for a session: who confirmed, who did not, what failed, what looks odd,
and each student's attendance status (portal.register.statuses) with its hand-mark history."""
import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from portal.database import utcnow
from portal.languages import N_, english
from portal.models import AttendanceSession, CardCheck, NotificationStatus, Review
from portal.register import reviews
from portal.register.statuses import StatusRule
from portal.repositories.attendance_repository import AttendanceRepository
from portal.timefmt import local_datetime

CLUSTER_WINDOW = timedelta(minutes=1)


@dataclass
class AttendanceReport:
    confirmed: list = field(default_factory=list)  # present (a rejected confirmation is not)
    rejected: list = field(default_factory=list)  # confirmed without the card; the lecturer rejected it
    not_confirmed: list = field(default_factory=list)  # emailed, no confirmation yet
    failed: list = field(default_factory=list)  # the email never reached them
    waiting: list = field(default_factory=list)  # email still pending or sending
    unlinked: list = field(default_factory=list)  # on a register-only session's list: no email, marked by hand
    flagged_ids: set = field(default_factory=set)  # record ids in a cluster, for review
    clusters: list = field(default_factory=list)  # (ip, count) of each flagged address
    students: list = field(default_factory=list)  # every roster row, by name
    statuses: dict = field(default_factory=dict)  # student id → AttendanceStatus, or None (not known yet)
    history: dict = field(default_factory=lambda: defaultdict(list))  # student id → hand marks, oldest first

    @property
    def status_counts(self) -> Counter:
        return Counter(status for status in self.statuses.values() if status is not None)

    @property
    def total(self) -> int:
        return (len(self.confirmed) + len(self.rejected) + len(self.not_confirmed) + len(self.failed)
                + len(self.waiting) + len(self.unlinked))

    @property
    def to_review(self) -> list:
        """Flagged confirmations (no card, position uncertain) nobody has accepted or rejected yet."""
        return [row for row in self.confirmed if review_reason(row) and row.review is None]


def build_report(session: AttendanceSession, rule: StatusRule, cluster_threshold: int = 3,
                 now=None) -> AttendanceReport:
    report = AttendanceReport()
    repository = AttendanceRepository()
    now = now or utcnow()
    for row in repository.roster(session.id):
        report.students.append(row)
        report.statuses[row.student_id] = rule.of_roster_row(session, row, now)
        if row.record_id is not None:
            (report.rejected if row.review == Review.REJECTED else report.confirmed).append(row)
        elif row.email_status == NotificationStatus.NOT_EMAILED:
            report.unlinked.append(row)
        elif row.email_status == "sent":
            report.not_confirmed.append(row)
        elif row.email_status in (NotificationStatus.FAILED, NotificationStatus.BOUNCED):
            report.failed.append(row)
        else:
            report.waiting.append(row)
    report.confirmed.sort(key=lambda row: row.recorded_at)
    for mark in repository.mark_history(session.id):
        report.history[mark.student_id].append(mark)
    _flag_clusters(report, cluster_threshold)
    return report


def _flag_clusters(report: AttendanceReport, threshold: int) -> None:
    """Flag (never block) `threshold` or more confirmations from one IP within a minute:
    one phone confirming for friends looks like this; so does a shared campus NAT, hence review."""
    by_ip = defaultdict(list)
    for row in report.confirmed:
        if row.ip_address:
            by_ip[row.ip_address].append(row)
    for ip, rows in by_ip.items():
        flagged = set()
        start = 0
        for end, row in enumerate(rows):
            while row.recorded_at - rows[start].recorded_at > CLUSTER_WINDOW:
                start += 1
            if end - start + 1 >= threshold:
                flagged.update(r.record_id for r in rows[start : end + 1])
        if flagged:
            report.flagged_ids |= flagged
            report.clusters.append((ip, len(flagged)))


CSV_COLUMNS = ["student_number", "first_name", "last_name", "email", "attendance", "status", "status_note",
               "status_set_by", "confirmed_at", "distance_m", "accuracy_m", "position", "ip_address", "user_agent",
               "flagged", "card", "review_reason", "review", "email_status", "email_error"]
CARD_WORDS = {CardCheck.SCANNED: N_("card scanned"), CardCheck.NOT_SCANNED: N_("card not scanned"),
              CardCheck.NOT_REQUIRED: N_("no scan needed")}


def card_word(row, say=english) -> str:
    """What the card check says ('card scanned'); `say`: gettext for a page, English for the CSV."""
    return say(CARD_WORDS[row.card_check]) if row.record_id is not None and row.card_check in CARD_WORDS else ""


def review_reason(row, say=english) -> str:
    """Why a confirmation is for the lecturer to review ('card not scanned; position uncertain
    (44 m ± 35 m)'), or '' for one that is not."""
    if row.record_id is None:
        return ""
    return reviews.reasons(row.card_check, row.position_uncertain, row.distance_m, row.accuracy_m, say)


def position_word(row) -> str:
    """'inside' or 'uncertain' for a confirmation checked against the session's point, else ''."""
    if row.record_id is None or row.distance_m is None:
        return ""
    return "uncertain" if row.position_uncertain else "inside"


def marked_by_words(row) -> str:
    """'Lee Lecturer at 2026-11-26 10:05' for a status set by hand, or ''."""
    if not row.mark:
        return ""
    return f"{row.marker_first_name} {row.marker_last_name} at {local_datetime(row.marked_at)}"


def review_words(row) -> str:
    """'accepted by Lee Lecturer at 2026-11-26 10:05', or '' before any decision."""
    if not row.review:
        return ""
    return f"{row.review} by {row.reviewer_first_name} {row.reviewer_last_name} at {local_datetime(row.reviewed_at)}"


def report_csv(report: AttendanceReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    groups = [("confirmed", report.confirmed), ("rejected", report.rejected), ("not confirmed", report.not_confirmed),
              ("email failed", report.failed), ("email not yet sent", report.waiting),
              ("register only (no link)", report.unlinked)]
    safe = spreadsheet_safe
    for label, rows in groups:
        for row in rows:
            writer.writerow([
                safe(row.student_number), safe(row.first_name), safe(row.last_name), safe(row.email), label,
                report.statuses.get(row.student_id) or "", safe(row.mark_note or ""), safe(marked_by_words(row)),
                local_datetime(row.recorded_at) if row.recorded_at else "",
                f"{row.distance_m:.1f}" if row.distance_m is not None else "",
                f"{row.accuracy_m:.1f}" if row.accuracy_m is not None else "", position_word(row),
                safe(row.ip_address or ""), safe(row.user_agent or ""),
                "yes" if row.record_id in report.flagged_ids else "",
                card_word(row), review_reason(row), safe(review_words(row)), row.email_status,
                safe(row.last_error or ""),
            ])
    return out.getvalue()


def spreadsheet_safe(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in text that came from users."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
