"""The import's sync mode: a preview of every change, nothing saved until confirmed, then all
or nothing; deactivating the missing; the same from the command line."""
import io
import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, PendingImport, StudentProfile, User
from tests.factories import make_program

HEADER = "student_number,first_name,last_name,email,program_code,stream\n"


@pytest.fixture
def registry(people):
    """Three CS students imported earlier; the registry's new export changes and adds some."""
    cs = people["course"].program
    make_program("LAW", streams=())
    rows = ["S1,Ama,Mensah,ama@example.edu,CS,A", "S2,Bao,Tran,bao@example.edu,CS,A",
            "S3,Cyd,Roe,cyd@example.edu,CS,B", "L1,Lia,Law,lia@example.edu,LAW,"]
    from portal.students.importing import import_students
    import_students(HEADER + "\n".join(rows) + "\n")
    return cs


EXPORT = HEADER + (
    "S1,Ama,Mensah-Owusu,ama@example.edu,CS,B\n"  # married name, moved to stream B
    "S2,Bao,Tran,bao@example.edu,CS,A\n"  # unchanged
    "S4,Dee,New,dee@example.edu,CS,A\n"  # new
)  # S3 is missing; L1 is another program's


def upload(client, text, deactivate=False):
    data = {"csv_file": (io.BytesIO(text.encode()), "export.csv"), "mode": "sync"}
    if deactivate:
        data["deactivate_missing"] = "y"
    return client.post("/admin/import", data=data, content_type="multipart/form-data")


def confirm(client, html, action="apply"):
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', html).group(1)
    return client.post("/admin/import/confirm", data={"token": token, "fingerprint": fingerprint, "action": action})


def student(number):
    db.session.expire_all()
    return db.session.scalar(select(StudentProfile).where(StudentProfile.student_number == number))


@pytest.fixture
def admin(client, auth, people):
    auth.login("admin@example.edu")
    return client


def test_preview_then_apply(admin, registry, people):
    preview = upload(admin, EXPORT, deactivate=True)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert re.sub(r"\s+", " ", html.split('id="sync-counts">')[1].split("</p>")[0]) == (
        "Programs CS: <strong>1</strong> to add, <strong>1</strong> to update, 1 unchanged, "
        "<strong>1</strong> to deactivate.")
    changed = html.split('id="sync-changed"')[1].split("</table>")[0]
    assert "last name</td><td>Mensah</td><td><strong>Mensah-Owusu</strong>" in changed
    assert "stream</td><td>A</td><td><strong>B</strong>" in changed and "S2" not in changed
    # By name and "· number": a bare "L1" can turn up in the page's random CSRF and preview tokens.
    assert "Dee New · S4" in html and "Cyd Roe · S3" in html and "Lia Law" not in html and "· L1" not in html
    assert student("S1").user.last_name == "Mensah" and student("S4") is None  # nothing yet

    done = confirm(admin, html)
    assert done.status_code == 303
    assert "Sync done: 1 added, 1 updated, 1 unchanged, 1 deactivated." in admin.get(done.location).get_data(
        as_text=True)
    s1 = student("S1")
    assert (s1.user.last_name, s1.stream.name) == ("Mensah-Owusu", "B")
    assert student("S4").user.email == "dee@example.edu"
    assert not student("S3").is_active and not student("S3").user.is_active
    assert student("L1").is_active  # not one of the file's programs
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "students.sync")).one()
    assert event.actor_id == people["admin"].id and event.details == "1 added, 1 updated, 1 unchanged, 1 deactivated"
    applied = db.session.scalars(select(PendingImport)).one()  # kept (for a day) as applied, by whom
    assert applied.applied_at is not None and applied.applied_by_id == people["admin"].id
    again = confirm(admin, html)  # a preview is applied once: another tab, or another admin, is told
    assert again.status_code == 409 and "applied by Ada Admin" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "students.sync")) == 1


def test_without_deactivate_missing_nobody_is_deactivated(admin, registry):
    html = upload(admin, EXPORT).get_data(as_text=True)
    assert "to deactivate" not in html
    confirm(admin, html)
    assert student("S3").is_active


def test_a_bad_row_means_no_preview_and_no_change(admin, registry):
    bad = EXPORT + "S5,Eve,Bad,not-an-email,CS,A\nS6,Fay,Dup,ama@example.edu,CS,A\n"
    response = upload(admin, bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was changed." in html
    assert "Line 5: email is not valid" in html and "Line 6: email ama@example.edu is already used" in html
    assert db.session.scalar(select(func.count()).select_from(PendingImport)) == 0
    assert student("S1").user.last_name == "Mensah"


def test_a_change_meanwhile_is_shown_again_not_applied(admin, registry):
    html = upload(admin, EXPORT).get_data(as_text=True)
    s2 = student("S2")
    s2.user.first_name = "Bảo"  # an admin corrects the name in the portal meanwhile
    db.session.commit()
    response = confirm(admin, html)
    again = response.get_data(as_text=True)
    assert response.status_code == 409 and "changed since the preview" in again
    assert "first name</td><td>Bảo</td><td><strong>Bao</strong>" in again
    assert student("S1").user.last_name == "Mensah" and student("S4") is None  # still nothing
    assert confirm(admin, again).status_code == 303  # confirming the new plan applies it
    assert student("S2").user.first_name == "Bao" and student("S4") is not None


def test_all_or_nothing_when_a_row_no_longer_fits(admin, registry):
    html = upload(admin, EXPORT).get_data(as_text=True)
    db.session.add(User(email="dee@example.edu", first_name="Dee", last_name="Staff", role="lecturer"))
    db.session.commit()  # S4's email is taken before the confirmation
    response = confirm(admin, html)
    assert response.status_code == 400 and "Line 4: email dee@example.edu is already used" in response.get_data(
        as_text=True)
    assert student("S1").user.last_name == "Mensah" and student("S4") is None


def test_cancel(admin, registry):
    html = upload(admin, EXPORT).get_data(as_text=True)
    response = confirm(admin, html, action="cancel")
    assert response.status_code == 303 and "nothing changed" in admin.get(response.location).get_data(as_text=True)
    assert student("S4") is None and db.session.scalar(select(func.count()).select_from(PendingImport)) == 0


def test_another_students_card_code_is_refused_with_the_line(admin, registry):
    text = HEADER.strip() + ",card_code\nS1,Ama,Mensah,ama@example.edu,CS,A,S2\n"
    response = upload(admin, text)
    assert response.status_code == 400
    assert "Line 2: card code ending … is already another student&#39;s" in response.get_data(as_text=True)


def test_only_admins(client, auth, registry):
    auth.login("lecturer@example.edu")
    assert client.post("/admin/import/confirm", data={"token": "x"}).status_code == 403


def test_sync_from_the_command_line(cli, registry, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    declined = cli("import-students", str(export), "--mode", "sync", "--deactivate-missing")
    assert declined.exit_code == 1  # no answer: aborted
    assert "update S1: last name Mensah → Mensah-Owusu; stream A → B" in declined.output
    assert "add S4: Dee New" in declined.output and "deactivate S3: Cyd Roe" in declined.output
    assert student("S4") is None
    done = cli("import-students", str(export), "--mode", "sync", "--deactivate-missing", "--yes")
    assert done.exit_code == 0 and "Sync done" in done.output
    assert student("S4") is not None and not student("S3").is_active
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "students.sync")).one()
    assert event.actor_id is None  # the command line
    again = cli("import-students", str(export), "--mode", "sync", "--deactivate-missing", "--yes")
    assert again.exit_code == 0 and "Nothing to change" in again.output


def test_two_admins_confirming_one_preview_at_once_apply_it_once(app, admin, registry, people, monkeypatch):
    """Both press Apply on the same preview of an update-only file: one applies, the other is
    told it was applied (409), whichever the database lets in first. The apply is slowed so
    the two overlap."""
    import threading
    import time

    from portal.students import sync
    from tests.support import Auth

    update_only = HEADER + "S1,Ama,Mensah-Owusu,ama@example.edu,CS,B\n"
    html = upload(admin, update_only).get_data(as_text=True)
    slow_apply = sync._apply

    def slowly(*args, **kwargs):
        time.sleep(0.5)
        return slow_apply(*args, **kwargs)

    monkeypatch.setattr(sync, "_apply", slowly)
    browsers = [app.test_client(), app.test_client()]  # two admins' browsers, each in a thread of its own
    for browser in browsers:
        Auth(browser).login("admin@example.edu")
    answers = []
    threads = [threading.Thread(target=lambda b=b: answers.append(confirm(b, html))) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(response.status_code for response in answers) == [303, 409]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "students.sync")) == 1
    assert student("S1").user.last_name == "Mensah-Owusu"


def test_a_language_column_sets_each_students_language_and_its_absence_keeps_it(admin, registry):
    with_language = HEADER.rstrip("\n") + ",language\n" + "S1,Ama,Mensah,ama@example.edu,CS,A,fr\n"
    html = upload(admin, with_language).get_data(as_text=True)
    assert "fr" in html
    confirm(admin, html)
    assert student("S1").language == "fr"
    html = upload(admin, HEADER + "S1,Ama,Mensah,ama@example.edu,CS,A\n").get_data(as_text=True)
    confirm(admin, html)
    assert student("S1").language == "fr"  # a file without the column changes nobody's language
    html = upload(admin, HEADER.rstrip("\n") + ",language\nS1,Ama,Mensah,ama@example.edu,CS,A,\n").get_data(
        as_text=True)
    confirm(admin, html)
    assert student("S1").language is None  # an empty one: back to the portal's default
