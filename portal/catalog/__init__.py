"""What a university teaches: programs, their streams, and courses.

    editing.py   create and edit programs, streams and courses (never deleted: deactivated),
                 and who teaches each course (teaching assignments)

Models: portal/models/academic.py. Pages: the admin blueprint's /admin/programs and
/admin/courses (portal/admin/routes.py, portal/admin/directory.py); commands:
`create-program`, `create-course`, `assign-lecturer`.
"""
from portal.catalog.editing import (
    add_stream,
    assign_lecturer,
    create_course,
    create_program,
    edit_course,
    edit_program,
    edit_stream,
)

__all__ = ["add_stream", "assign_lecturer", "create_course", "create_program", "edit_course", "edit_program",
           "edit_stream"]
