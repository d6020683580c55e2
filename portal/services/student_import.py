"""Student CSV import: every row is checked first; all rows are saved, or none."""
import csv
import io

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import Program, Role, StudentProfile, User

COLUMNS = ["student_number", "first_name", "last_name", "email", "program_code", "stream"]
TRUE_WORDS, FALSE_WORDS = {"", "true", "yes", "1"}, {"false", "no", "0"}


def import_students(text: str) -> int:
    """Create the students in `text` (CSV); raises ValidationError listing every bad row."""
    rows = _read(text)
    programs = {p.code: p for p in db.session.scalars(select(Program))}
    numbers = {r["student_number"].strip() for r in rows}
    emails = {r["email"].strip().lower() for r in rows}
    taken_numbers = set(db.session.scalars(select(StudentProfile.student_number).where(StudentProfile.student_number.in_(numbers))))
    taken_emails = {e.lower() for e in db.session.scalars(select(User.email).where(db.func.lower(User.email).in_(emails)))}

    errors, students, seen_numbers, seen_emails = [], [], set(), set()
    for line, row in enumerate(rows, start=2):
        problems, student = _check_row(row, programs, taken_numbers | seen_numbers, taken_emails | seen_emails)
        if problems:
            errors.append(f"Line {line}: " + "; ".join(problems))
        else:
            seen_numbers.add(student["student_number"])
            seen_emails.add(student["email"].lower())
            students.append(student)
    if errors:
        raise ValidationError(errors)
    for student in students:
        user = User(email=student["email"], first_name=student["first_name"], last_name=student["last_name"],
                    role=Role.STUDENT, is_active=student["active"])
        db.session.add(StudentProfile(user=user, student_number=student["student_number"], program=student["program"],
                                      stream=student["stream"], is_active=student["active"]))
    db.session.commit()
    return len(students)


def _read(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ValidationError(f"The header must be {','.join(COLUMNS)} (optional: active); missing: {', '.join(missing)}")
    reader.fieldnames = header
    rows = [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    if not rows:
        raise ValidationError("The file has no student rows")
    return rows


def _check_row(row: dict, programs: dict, taken_numbers: set, taken_emails: set) -> tuple[list[str], dict]:
    problems = []
    number = row["student_number"].strip()
    first, last = row["first_name"].strip(), row["last_name"].strip()
    if not number:
        problems.append("student_number is empty")
    elif number in taken_numbers:
        problems.append(f"student number {number} already exists")
    if not first or not last:
        problems.append("first_name and last_name are required")
    try:
        email = validate_email(row["email"].strip(), check_deliverability=False).normalized
        if email.lower() in taken_emails:
            problems.append(f"email {email} is already used")
    except EmailNotValidError as exc:
        email = None
        problems.append(f"email is not valid ({exc})")
    program = programs.get(row["program_code"].strip())
    stream = None
    if program is None:
        problems.append(f"unknown program code {row['program_code'].strip()!r}")
    elif row["stream"].strip():
        stream = next((s for s in program.streams if s.name == row["stream"].strip()), None)
        if stream is None:
            problems.append(f"program {program.code} has no stream {row['stream'].strip()!r}")
    active_word = row.get("active", "").strip().lower()
    if active_word not in TRUE_WORDS | FALSE_WORDS:
        problems.append(f"active must be true or false, got {active_word!r}")
    student = {"student_number": number, "first_name": first, "last_name": last, "email": email,
               "program": program, "stream": stream, "active": active_word in TRUE_WORDS}
    return problems, student
