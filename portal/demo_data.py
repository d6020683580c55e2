"""Demo data for `seed-demo`: two programs, three courses, two staff, 60 students, and four
past weeks of CS201 so that its attendance and register have something to show."""
from datetime import timedelta

from portal import catalog
from portal.database import utcnow
from portal.exceptions import ConflictError
from portal.extensions import db
from portal.models import (
    AttendanceMark,
    AttendanceRecord,
    AttendanceSession,
    Course,
    EmailNotification,
    GenerationStatus,
    NotificationStatus,
    Program,
    Role,
    StudentProfile,
    User,
)
from portal.repositories import StudentProfileRepository, UserRepository
from portal.staff import accounts

PAST_WEEKS = 4
CAMPUS = (-1.27980, 36.81640)  # LT 3, where the demo's CS201 meets

FIRST_NAMES = ["Amina", "Ben", "Chen", "Dana", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Jia",
               "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara"]
LAST_NAMES = ["Okafor", "Smith", "Wang", "Levi", "Nwosu", "Haddad", "Petrov", "Sato", "Ivanova", "Li"]


def seed(password: str) -> list[tuple[str, str]]:
    """Fill an empty database (ConflictError if it has users); the accounts made, (role, email)."""
    if UserRepository().any():
        raise ConflictError("the database already has users; seed-demo only fills an empty one")
    cs = catalog.create_program("BSC-CS", "BSc Computer Science", ["A", "B"])
    bba = catalog.create_program("BBA", "Bachelor of Business Administration")
    data_structures = catalog.create_course("CS201", "Data Structures", "BSC-CS")
    catalog.create_course("CS305", "Operating Systems", "BSC-CS")
    catalog.create_course("BUS110", "Principles of Accounting", "BBA")
    admin = accounts.create_user("admin@example.edu", password, Role.ADMIN, "Ada", "Admin")
    lecturer = accounts.create_user("lecturer@example.edu", password, Role.LECTURER, "Lee", "Lecturer")
    for code in ("CS201", "CS305"):  # BUS110 has no lecturer yet: an admin assigns one on its page
        catalog.assign_lecturer(code, lecturer.email)
    for n in range(60):
        program: Program = cs if n < 40 else bba
        stream = program.streams[n % 2] if program.streams else None
        user = User(email=f"student{n + 1:02d}@example.edu", first_name=FIRST_NAMES[n % 20],
                    last_name=LAST_NAMES[n % 10], role=Role.STUDENT, is_active=True)
        db.session.add(StudentProfile(user=user, student_number=f"S{n + 1:05d}", program=program,
                                      stream=stream, is_active=True))
    db.session.commit()
    _past_weeks(data_structures, lecturer)
    return [(admin.role, admin.email), (lecturer.role, lecturer.email)]


def _past_weeks(course: Course, lecturer: User) -> None:
    """CS201's last four weekly sessions: most students confirmed (each at a distance from the room
    with their phone's accuracy), some late, two excused by hand, a few who keep missing it (below
    the register's 75%), and in the last week two whose phones could not place them for sure,
    waiting for the lecturer's review."""
    students = StudentProfileRepository().of_program(course.program_id)
    start = (utcnow() - timedelta(weeks=PAST_WEEKS)).replace(hour=8, minute=0, second=0, microsecond=0)
    for week in range(PAST_WEEKS):
        starts = start + timedelta(weeks=week)
        session = AttendanceSession(course=course, program_id=course.program_id, lecturer=lecturer, starts_at=starts,
                                    ends_at=starts + timedelta(hours=2), room="LT 3", generated_at=starts,
                                    latitude=CAMPUS[0], longitude=CAMPUS[1], radius_m=30,
                                    generation_status=GenerationStatus.DONE)
        db.session.add(session)
        db.session.flush()
        for n, student in enumerate(students):
            db.session.add(EmailNotification(session_id=session.id, student_profile_id=student.id,
                                             token=f"demo-week-{week}-{student.id}", token_expires_at=starts,
                                             status=NotificationStatus.SENT, attempts=1, sent_at=starts,
                                             sent_to=student.user.email))
            if n % 9 == 4 and week % 2:  # these students miss every other week; n % 13 == 7 misses most
                continue
            if n % 13 == 7 and week:
                continue
            if n == 11 and week == 2:
                db.session.add(AttendanceMark(session_id=session.id, student_profile_id=student.id,
                                              status="excused", previous_status="absent", note="Medical certificate",
                                              marked_by_id=lecturer.id, marked_at=starts + timedelta(days=1)))
                continue
            uncertain = week == PAST_WEEKS - 1 and n in (3, 17)
            distance, accuracy = (38 + n, 35) if uncertain else ((n * 5 + week * 3) % 26, 8 + (n * 3) % 20)
            db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=student.id,
                                            recorded_at=starts + timedelta(minutes=(n * 7 + week * 3) % 25),
                                            latitude=CAMPUS[0] + distance / 111_194.93, longitude=CAMPUS[1],
                                            distance_m=distance, accuracy_m=accuracy, position_uncertain=uncertain,
                                            ip_address=f"10.20.{week}.{n + 10}", user_agent="Demo phone"))
    db.session.commit()
