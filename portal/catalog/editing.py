"""Programs, their streams, and courses: created and edited (never deleted; deactivated), for
the admin pages and the command line alike.

Problems are keyed by the admin form's field names, so a page shows each next to its field
and the command line prints them on one line."""
from flask_babel import gettext as _

from portal import audit
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import Course, Program, Role, Stream, TeachingAssignment, User
from portal.names import max_length, name_problem, name_problems
from portal.repositories import CatalogRepository, UserRepository, get

STREAM_LIMIT = max_length(Stream.name)
_catalog = CatalogRepository()


def create_program(code: str, name: str, streams: list[str] | None = None) -> Program:
    code, name = code.strip(), name.strip()
    stream_names = [s.strip() for s in streams or [] if s.strip()]
    errors = name_problems({"code": (_("Program code"), code, max_length(Program.code)),
                            "name": (_("Program name"), name, max_length(Program.name))})
    if "code" not in errors and _catalog.program_code_taken(code):
        errors["code"] = f"program {code} already exists"
    problems = [problem for stream in stream_names if (problem := name_problem(_("A stream name"), stream, STREAM_LIMIT))]
    if problems:
        errors["streams"] = problems[0]
    elif len(set(stream_names)) != len(stream_names):
        errors["streams"] = "stream names must be different from each other"
    if errors:
        raise ValidationError(errors)
    program = Program(code=code, name=name, streams=[Stream(name=s) for s in stream_names])
    db.session.add(program)
    db.session.commit()
    return program


def create_course(code: str, name: str, program_code: str) -> Course:
    code, name = code.strip(), name.strip()
    program = _catalog.program_by_code(program_code.strip())
    errors = name_problems({"code": (_("Course code"), code, max_length(Course.course_code)),
                            "name": (_("Course name"), name, max_length(Course.course_name))})
    if "code" not in errors and _catalog.course_code_taken(code):
        errors["code"] = f"course {code} already exists"
    if program is None:
        errors["program_code"] = f"unknown program {program_code[:40]!r}"
    if errors:
        raise ValidationError(errors)
    course = Course(course_code=code, course_name=name, program=program)
    db.session.add(course)
    db.session.commit()
    return course


def add_stream(program_id: int, name: str) -> Stream:
    program = get(Program, program_id)
    name = name.strip()
    if program is None:
        raise ValidationError({"program_id": _("Unknown program")})
    if problem := name_problem(_("Stream name"), name, STREAM_LIMIT):
        raise ValidationError({"name": problem})
    if any(s.name == name for s in program.streams):
        raise ValidationError({"name": _("Program %(code)s already has a stream %(name)s", code=program.code,
                                          name=repr(name))})
    stream = Stream(program=program, name=name)
    db.session.add(stream)
    db.session.commit()
    return stream


def edit_program(program: Program, code: str, name: str, active: bool, by: User) -> list[str]:
    """Rename or (de)activate a program (committed, audited); returns the changes in words."""
    code, name = code.strip(), name.strip()
    errors = name_problems({"code": (_("Program code"), code, max_length(Program.code)),
                            "name": (_("Program name"), name, max_length(Program.name))})
    if "code" not in errors and _catalog.program_code_taken(code, by_other_than=program.id):
        errors["code"] = f"program {code} already exists"
    if errors:
        raise ValidationError(errors)
    return _save_edit(program, f"program {program.code}", by, code=code, name=name, is_active=active)


def edit_stream(stream: Stream, name: str, active: bool, by: User) -> list[str]:
    name = name.strip()
    if problem := name_problem(_("Stream name"), name, STREAM_LIMIT):
        raise ValidationError({"name": problem})
    if any(s.name == name and s.id != stream.id for s in stream.program.streams):
        raise ValidationError({"name": _("Program %(code)s already has a stream %(name)s", code=stream.program.code,
                                          name=repr(name))})
    return _save_edit(stream, f"stream {stream.name} of {stream.program.code}", by, name=name, is_active=active)


def edit_course(course: Course, code: str, name: str, program_code: str, active: bool, by: User,
                lecturer_ids: list[int] | None = None) -> list[str]:
    """Rename, move or (de)activate a course, and (given `lecturer_ids`) set who teaches it, in
    one commit. Its sessions keep their own program, and a course with sessions is never
    deleted: deactivating only keeps it out of new sessions."""
    code, name = code.strip(), name.strip()
    program = _catalog.program_by_code(program_code.strip())
    errors = name_problems({"code": (_("Course code"), code, max_length(Course.course_code)),
                            "name": (_("Course name"), name, max_length(Course.course_name))})
    if "code" not in errors and _catalog.course_code_taken(code, by_other_than=course.id):
        errors["code"] = f"course {code} already exists"
    if program is None:
        errors["program_code"] = f"unknown program {program_code[:40]!r}"
    if lecturer_ids is not None:
        current = _catalog.lecturers_of(course.id)
        lecturers = {user.id: user for user in _catalog.assignable(keep={user.id for user in current})}
        if not set(lecturer_ids) <= lecturers.keys():
            errors["lecturers"] = "Choose lecturers from the list (an inactive account cannot be assigned)"
    if errors:
        raise ValidationError(errors)
    changes = [] if lecturer_ids is None else _set_lecturers(
        course, current, [lecturers[i] for i in dict.fromkeys(lecturer_ids)], by)
    return changes + _save_edit(course, f"course {course.course_code}", by, course_code=code, course_name=name,
                                program_id=program.id, is_active=active)


def assign_lecturer(course_code: str, email: str, remove: bool = False, by: User | None = None) -> str:
    """Assign a lecturer to a course, or remove them (committed, audited); what was done, in words.
    ValidationError names an unknown course or a user who is not an active lecturer."""
    course = _catalog.course_by_code(course_code.strip())
    if course is None:
        raise ValidationError(f"unknown course {course_code[:40]!r}")
    user = UserRepository().by_email(email.strip())
    current = _catalog.lecturers_of(course.id)
    if user is None or (user.role != Role.LECTURER and user not in current):
        raise ValidationError(f"{email[:80]!r} is not a lecturer's account")
    if not remove and not user.is_active:
        raise ValidationError(f"{user.email}'s account is deactivated: reactivate it first")
    wanted = [u for u in current if u.id != user.id] + ([] if remove else [user])
    changes = _set_lecturers(course, current, wanted, by)
    db.session.commit()
    return "; ".join(changes) if changes else f"nothing changed: {user.full_name} " + (
        "does not teach" if remove else "already teaches") + f" {course.course_code}"


def _set_lecturers(course: Course, teaching: list[User], lecturers: list[User], by: User | None) -> list[str]:
    """Stage the course's assignments as `lecturers` (it has `teaching` now) and audit the
    difference (the caller commits)."""
    current = {user.id: user for user in teaching}
    wanted = {user.id: user for user in lecturers}
    changes = []
    for user_id in wanted.keys() - current.keys():
        _catalog.add_assignment(TeachingAssignment(course_id=course.id, user_id=user_id))
        changes.append(f"{wanted[user_id].full_name} now teaches {course.course_code}")
    for user_id in current.keys() - wanted.keys():
        _catalog.remove_assignment(_catalog.assignment(course.id, user_id))
        changes.append(f"{current[user_id].full_name} no longer teaches {course.course_code}")
    changes.sort()
    if changes:
        audit.record(by, "course.lecturers", f"course {course.course_code}", "; ".join(changes))
    return changes


def _save_edit(item, label: str, by: User, **values) -> list[str]:
    """Set the values, record what changed in the audit trail and commit."""
    changes = [f"{name.replace('_', ' ').replace('is active', 'active')}: {getattr(item, name)} → {value}"
               for name, value in values.items() if getattr(item, name) != value]
    for name, value in values.items():
        setattr(item, name, value)
    if changes:
        audit.record(by, "directory.edit", label, "; ".join(changes))
    db.session.commit()
    return changes
