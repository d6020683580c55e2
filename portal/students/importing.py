"""Student CSV import: every row is checked first; all rows are saved, or none.

Built for a whole university in one request (50,000 rows in seconds): the rows are read
once, the student numbers, emails and card codes already taken are fetched whole (cheaper
than asking about 50,000 values), each row is checked against them in memory, and the
accepted rows are inserted in bulk. The optional `card_code` column says what each
student's card's QR code holds (the student number when empty or absent); the optional
`language` column the language they read the portal in (PORTAL_DEFAULT_LANGUAGE when empty).

Files are read as spreadsheets save them (`decode`, `read_rows`): UTF-8 with or without a
BOM, or UTF-16 (Excel's "Unicode text", some "CSV UTF-8" saves); commas, semicolons (Excel
where the decimal mark is a comma) or tabs, told by the header row; any newline convention
(Windows, Unix, and the CR-only ends Excel for Mac still writes). Every problem of every
line is listed, and every limit has a message that names the line.
"""
import csv
import io

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import audit, languages
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import StudentProfile, User
from portal.names import control_problem, max_length, name_problems
from portal.repositories import CatalogRepository, StudentProfileRepository, UserRepository
from portal.students.card_codes import MAX_LENGTH as CARD_CODE_LIMIT
from portal.students.card_codes import masked

COLUMNS = ["student_number", "first_name", "last_name", "email", "program_code", "stream"]
TRUE_WORDS, FALSE_WORDS = {"", "true", "yes", "1"}, {"false", "no", "0"}
ACTIVE_WORDS = TRUE_WORDS | FALSE_WORDS
MAX_ROWS = 100_000  # twice a large university; more is surely the wrong file
MAX_PROBLEMS_LISTED = 200  # past this, the rest are counted, not listed
FIELD_LIMIT = csv.field_size_limit()  # 128 KB: far past any real field

OTHER_FIELDS = ("email", "program_code", "stream", "active", "card_code", "language")
OPTIONAL = ("active", "card_code", "language")
NAME_LIMITS = {"student_number": max_length(StudentProfile.student_number),
               "first_name": max_length(User.first_name), "last_name": max_length(User.last_name)}


def import_students(text: str, by: User | None = None) -> int:
    """Create the students in `text` (CSV); raises ValidationError listing every bad row."""
    rows = read_rows(text)
    programs = {p.code: p for p in CatalogRepository().programs()}
    taken_numbers = StudentProfileRepository().student_numbers()
    unique = UniqueValues()

    problems, students, seen_numbers = [], [], set()
    for line, row in rows:
        reasons, student = check_row(row, programs)
        number = student["student_number"]
        card = student["card_code"] = student.get("card_code") or number  # the student number by default
        if number in taken_numbers or number in seen_numbers:
            reasons.append(_("student number %(number)s already exists", number=number))
        seen_numbers.add(number)
        reasons += unique.problems(number, student["email"], card)  # a number already taken has said so above
        if reasons:
            problems.append(_("Line %(line)s: %(problems)s", line=line, problems="; ".join(reasons)))
        else:
            students.append(student)
    if problems:
        raise ValidationError(listed(problems))
    insert_students(students)
    audit.record(by, "students.import", f"{len(students)} students",
                 "programs " + ", ".join(sorted({s["program"].code for s in students})))
    db.session.commit()
    return len(students)


class UniqueValues:
    """Emails and card codes are unique across the file and the database: the import and the sync
    ask here which of a row's values the database or an earlier row has already."""

    def __init__(self) -> None:
        self.email_owner = UserRepository().email_owners()
        self.card_owner = StudentProfileRepository().card_owners()
        self.seen_emails, self.seen_cards = set(), set()

    def problems(self, number: str, email: str | None, card: str | None, own_user: int | None = None,
                 own_profile: int | None = None) -> list[str]:
        """The row's problems; `own_user`, `own_profile`: the student it updates, whose own email and
        card code are theirs to keep."""
        address = (email or "").lower()
        reasons = []
        if address and (address in self.seen_emails or self.email_owner.get(address, own_user) != own_user):
            reasons.append(_("email %(email)s is already used", email=email))
        elif card and (card in self.seen_cards or self.card_owner.get(card, own_profile) != own_profile):
            reasons.append(card_taken(number, card))
        self.seen_emails.add(address)
        self.seen_cards.add(card)
        return reasons


def card_taken(number: str, card: str) -> str:
    """Why a row's card code (its student number when it gives none) cannot be used."""
    return (_("student number %(number)s is another student's card code", number=number) if card == number
            else _("card code ending %(code)s is already another student's", code=masked(card)))


NOT_UTF8 = _l("The file is not UTF-8 text (it looks like an older Windows or Mac encoding): save it as CSV UTF-8 "
              "(Excel: File → Save As → CSV UTF-8) and upload that")
DELIMITERS = (",", ";", "\t")


def decode(data: bytes) -> str:
    """The text of an uploaded file: UTF-8 (a BOM is dropped) or UTF-16 (with its BOM, or told by
    its zero bytes); anything else is a ValidationError saying how to save the file as CSV UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationError(_("The file says it is UTF-16 text but is not readable as such; save it as CSV "
                                    "UTF-8 (Excel: File → Save As → CSV UTF-8)")) from None
    if b"\x00" in data[:4096]:  # UTF-16 without its BOM: every other byte of ASCII text is zero
        sample = data[:4096]
        zeros_even, zeros_odd = sample[0::2].count(0), sample[1::2].count(0)
        if max(zeros_even, zeros_odd) > len(sample) // 4:
            try:
                return data.decode("utf-16-be" if zeros_even > zeros_odd else "utf-16-le")
            except UnicodeDecodeError:
                pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(str(NOT_UTF8)) from None


def template() -> str:
    """An empty import file: the header row, the optional columns too. It starts with a UTF-8 BOM,
    which is how Excel knows to open it as UTF-8 (and saves it back the same way)."""
    return "\ufeff" + ",".join(COLUMNS + list(OPTIONAL)) + "\r\n"


def _delimiter(first_line: str) -> str:
    """The delimiter the header row is written with (comma when none fits)."""
    return next((d for d in DELIMITERS if "student_number" in (n.strip() for n in first_line.split(d))), ",")


def read_rows(text: str) -> list[tuple[int, dict]]:
    """(line where the row starts, its stripped values) for each row that is not blank."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.splitlines()[0] if text else ""))
    rows, line = [], 1
    try:
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise ValidationError(_("The header must be %(columns)s (optional: %(optional)s); missing: %(missing)s",
                                    columns=",".join(COLUMNS), optional=", ".join(OPTIONAL),
                                    missing=", ".join(missing)))
        line = reader.line_num + 1
        for fields in reader:
            if any(value.strip() for value in fields):
                if len(rows) == MAX_ROWS:
                    raise ValidationError(_("The file has more than %(rows)s rows; split it into smaller files",
                                            rows=f"{MAX_ROWS:,}"))
                values = dict.fromkeys(header, "") | {name: value.strip() for name, value in zip(header, fields)}
                rows.append((line, values))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError(_("Line %(line)s: %(problems)s", line=line, problems=csv_problem(exc))) from None
    if not rows:
        raise ValidationError(_("The file has no student rows"))
    return rows


def csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return _("a field is longer than %(size)s KB; is this the right file?", size=FIELD_LIMIT // 1024)
    if "NUL" in str(exc):
        return _("the line contains a NUL byte; is this the right file?")
    return _("not readable as CSV (%(error)s)", error=exc)


def check_row(row: dict, programs: dict) -> tuple[list[str], dict]:
    reasons = list(name_problems({column: (column, row[column], limit) for column, limit in NAME_LIMITS.items()}
                                 ).values())
    unreadable = {column for column in OTHER_FIELDS if control_problem(column, row.get(column, ""))}
    reasons += [control_problem(column, row.get(column, "")) for column in OTHER_FIELDS if column in unreadable]
    if len(row.get("card_code", "")) > CARD_CODE_LIMIT:
        reasons.append(_("card_code must be at most %(limit)s characters", limit=CARD_CODE_LIMIT))
    email = None  # every other problem of the line is listed too
    if "email" not in unreadable:
        try:
            email = validate_email(row["email"], check_deliverability=False).normalized
        except EmailNotValidError as exc:
            reasons.append(_("email is not valid (%(error)s)", error=exc))
    program = programs.get(row["program_code"])
    stream = None
    if program is None:
        reasons.append(_("unknown program code %(code)s", code=repr(row["program_code"][:40])))
    elif row["stream"]:
        stream = next((s for s in program.streams if s.name == row["stream"]), None)
        if stream is None:
            reasons.append(_("program %(code)s has no stream %(stream)s", code=program.code,
                             stream=repr(row["stream"][:40])))
    active_word = row.get("active", "").lower()
    if active_word not in ACTIVE_WORDS:
        reasons.append(_("active must be true or false, got %(value)s", value=repr(active_word[:20])))
    language, problem = languages.read(row.get("language", "")) if "language" not in unreadable else (None, None)
    if problem:
        reasons.append(problem)
    student = {"student_number": row["student_number"], "card_code": row.get("card_code") or None,
               "first_name": row["first_name"],
               "last_name": row["last_name"], "email": email, "program": program, "stream": stream,
               "active": active_word in TRUE_WORDS, "language": language}
    return reasons, student


def listed(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS_LISTED:
        return problems
    return problems[:MAX_PROBLEMS_LISTED] + [_("… and %(count)s more lines with problems",
                                                count=f"{len(problems) - MAX_PROBLEMS_LISTED:,}")]


def insert_students(students: list[dict]) -> None:
    """Add the checked students, in the caller's transaction."""
    StudentProfileRepository().insert_many(students)