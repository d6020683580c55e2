"""Who may do what: loading the signed-in user and role checks for views."""
import functools

from flask import abort
from flask_login import current_user

from portal.extensions import login_manager
from portal.models import AttendanceSession, Course, Role, User
from portal.repositories import CatalogRepository, get

STAFF = (Role.ADMIN, Role.LECTURER)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The signed-in staff member, if the cookie's `<id>.<session_version>` is still current:
    sign-out, a password change and deactivation raise the version and end old cookies."""
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()) or len(session_id) > 40:
        return None
    user = get(User, int(user_id))
    if user is None or not user.is_active or user.role not in STAFF or user.session_version != int(version):
        return None
    return user


def roles_required(*roles: str):
    """Anonymous → sign-in page; signed in without one of `roles` → 403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


staff_required = roles_required(*STAFF)
admin_required = roles_required(Role.ADMIN)


def is_admin() -> bool:
    return current_user.is_authenticated and current_user.role == Role.ADMIN


def owner_filter() -> int | None:
    """The lecturer whose sessions the signed-in user may see; None means all (admins)."""
    return None if is_admin() else current_user.id


def session_or_404(session_id: int) -> AttendanceSession:
    """The session, if the signed-in user may see it: admins all, lecturers their own.
    Another lecturer's session is a 404, so its existence is not revealed."""
    session = get(AttendanceSession, session_id)
    if session is None or not (is_admin() or session.lecturer_id == current_user.id):
        abort(404)
    return session


def course_or_404(course_id: int) -> Course:
    """The course, for its register: admins any, a lecturer one they are assigned to teach
    (a 404 otherwise, as for sessions)."""
    course = get(Course, course_id)
    if course is None or not (is_admin() or CatalogRepository().teaches(current_user.id, course_id)):
        abort(404)
    return course
