"""Demo data for `seed-demo`: two programs, three courses, two staff, 60 students."""
from portal.extensions import db
from portal.models import Program, Role, StudentProfile, User
from portal.services import directory_service

FIRST_NAMES = ["Amina", "Ben", "Chen", "Dana", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Jia",
               "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara"]
LAST_NAMES = ["Okafor", "Smith", "Wang", "Levi", "Nwosu", "Haddad", "Petrov", "Sato", "Ivanova", "Li"]


def seed(password: str) -> list[tuple[str, str]]:
    cs = directory_service.create_program("BSC-CS", "BSc Computer Science", ["A", "B"])
    bba = directory_service.create_program("BBA", "Bachelor of Business Administration")
    directory_service.create_course("CS201", "Data Structures", "BSC-CS")
    directory_service.create_course("CS305", "Operating Systems", "BSC-CS")
    directory_service.create_course("BUS110", "Principles of Accounting", "BBA")
    admin = directory_service.create_user("admin@example.edu", password, Role.ADMIN, "Ada", "Admin")
    lecturer = directory_service.create_user("lecturer@example.edu", password, Role.LECTURER, "Lee", "Lecturer")
    for n in range(60):
        program: Program = cs if n < 40 else bba
        stream = program.streams[n % 2] if program.streams else None
        user = User(email=f"student{n + 1:02d}@example.edu", first_name=FIRST_NAMES[n % 20],
                    last_name=LAST_NAMES[n % 10], role=Role.STUDENT, is_active=True)
        db.session.add(StudentProfile(user=user, student_number=f"S{n + 1:05d}", program=program,
                                      stream=stream, is_active=True))
    db.session.commit()
    return [(admin.role, admin.email), (lecturer.role, lecturer.email)]
