"""The admin's student directory: search, filters, editing a student, deactivating them."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, StudentProfile
from tests.factories import link_for, make_program, make_session, make_students


@pytest.fixture
def admin(client, auth, people):
    auth.login("admin@example.edu")
    return client


@pytest.fixture
def directory(people):
    cs = people["course"].program
    stream_a, stream_b = cs.streams
    [amara] = make_students(cs, 1, stream=stream_a, prefix="cs-a")
    amara.user.first_name, amara.user.last_name = "Amara", "Okafor"
    [bo] = make_students(cs, 1, stream=stream_b, prefix="cs-b", active=False)
    bo.user.first_name, bo.user.last_name = "Bo", "Lindqvist"
    law = make_program("LAW", streams=())
    [chen] = make_students(law, 1, prefix="law")
    chen.user.first_name, chen.user.last_name = "Chen", "Okafor-Li"
    db.session.commit()
    return {"amara": amara, "bo": bo, "chen": chen, "cs": cs, "law": law, "a": stream_a, "b": stream_b}


def names(html: str) -> list[str]:
    body = html.split('id="students"')[1].split("</tbody>")[0]
    return [cell.split("<td>")[1].split("</td>")[0] for cell in body.split("<tr>")[1:] if "<td>" in cell]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["Lindqvist, Bo", "Okafor, Amara", "Okafor-Li, Chen"]),
    ("q=okafor", ["Okafor, Amara", "Okafor-Li, Chen"]),
    ("q=Amara+Okafor", ["Okafor, Amara"]),
    ("q=law-0", ["Okafor-Li, Chen"]),
    ("q=CS-B-0%40EXAMPLE", ["Lindqvist, Bo"]),
    ("q=%25", []),  # a literal percent sign matches nothing, not everything
    ("active=no", ["Lindqvist, Bo"]),
    ("active=yes&q=okafor", ["Okafor, Amara", "Okafor-Li, Chen"]),
])
def test_search_and_filters(admin, directory, query, expected):
    response = admin.get(f"/admin/students?{query}")
    assert response.status_code == 200
    assert names(response.get_data(as_text=True)) == expected


def test_filter_by_program_and_stream(admin, directory):
    html = admin.get(f"/admin/students?program_id={directory['law'].id}").get_data(as_text=True)
    assert names(html) == ["Okafor-Li, Chen"]
    html = admin.get(f"/admin/students?program_id={directory['cs'].id}&stream_id={directory['a'].id}").get_data(
        as_text=True)
    assert names(html) == ["Okafor, Amara"]


@pytest.mark.parametrize("query", ["program_id=99999", "active=maybe", "q=" + "x" * 101])
def test_bad_filters_are_400(admin, directory, query):
    assert admin.get(f"/admin/students?{query}").status_code == 400


def test_editing_a_student(admin, directory, people):
    amara = directory["amara"]
    form = admin.get(f"/admin/students/{amara.id}/edit").get_data(as_text=True)
    assert 'value="Amara"' in form and "amara" not in form.lower().split("card code")[1][:40]
    response = admin.post(f"/admin/students/{amara.id}/edit", data={
        "first_name": "Amara", "last_name": "Okafor-Bello", "email": "amara.ob@example.edu",
        "program_id": directory["cs"].id, "stream_id": directory["b"].id, "active": "y", "card_code": "CARD-7788-XY"})
    assert response.status_code == 303
    page = admin.get(response.location).get_data(as_text=True)
    assert "name: Amara Okafor → Amara Okafor-Bello" in page and "stream: A → B" in page
    assert "card code: …" in page and "CARD-7788-XY" not in page  # the code itself is never shown
    profile = db.session.get(StudentProfile, amara.id)
    db.session.refresh(profile)
    assert (profile.user.email, profile.stream_id, profile.card_code) == ("amara.ob@example.edu",
                                                                          directory["b"].id, "CARD-7788-XY")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "student.edit")).one()
    assert event.actor_id == people["admin"].id and "stream: A → B" in event.details
    assert "CARD-7788-XY" not in event.details


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"email": "cs-b-0@example.edu"}, "email", "already another account"),
    ({"email": "not an email"}, "email", "email is not valid"),
    ({"first_name": "A\u202eB"}, "first_name", "control characters"),
    ({"stream_id": "law"}, "stream_id", "Not a valid choice"),
    ({"card_code": "cs-b-0"}, "card_code", "already another student"),
])
def test_bad_edits_change_nothing(admin, directory, changes, field, message):
    amara = directory["amara"]
    data = {"first_name": "Amara", "last_name": "Okafor", "email": amara.user.email,
            "program_id": directory["cs"].id, "stream_id": directory["a"].id, "active": "y", **changes}
    response = admin.post(f"/admin/students/{amara.id}/edit", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and f'id="{field}-error"' in html
    db.session.expire_all()
    assert db.session.get(StudentProfile, amara.id).user.email == amara.user.email
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "student.edit")) is None


def test_a_stream_of_another_program_is_refused(admin, directory):
    amara = directory["amara"]
    law_stream_free = {"first_name": "Amara", "last_name": "Okafor", "email": amara.user.email,
                       "program_id": directory["law"].id, "stream_id": directory["a"].id, "active": "y"}
    response = admin.post(f"/admin/students/{amara.id}/edit", data=law_stream_free)
    assert response.status_code == 400 and "Program LAW has no such stream" in response.get_data(as_text=True)


def test_a_new_card_code_ending_like_the_old_one_is_still_named(admin, directory):
    amara = directory["amara"]
    amara.card_code = "OLD-CODE-0042"
    db.session.commit()
    response = admin.post(f"/admin/students/{amara.id}/edit", data={
        "first_name": "Amara", "last_name": "Okafor", "email": amara.user.email, "program_id": directory["cs"].id,
        "stream_id": directory["a"].id, "active": "y", "card_code": "NEW-CODE-0042"})
    assert "card code: …0042 → …0042 (new)" in admin.get(response.location).get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "student.edit")).one()
    assert event.details == "card code: …0042 → …0042 (new)"


def test_deactivating_ends_the_students_link(admin, app, directory, people):
    """The link of a class under way opens before the edit and is refused after it. (A session
    that has not opened yet would refuse it either way, and prove nothing.)"""
    amara = directory["amara"]
    under_way = make_session(people["course"], starts_in=timedelta(minutes=-5), lecturer=people["lecturer"])
    link = link_for(app, under_way, amara)
    student = app.test_client()
    assert student.get(f"/attendance?token={link}").status_code == 200
    response = admin.post(f"/admin/students/{amara.id}/edit", data={
        "first_name": "Amara", "last_name": "Okafor", "email": amara.user.email,
        "program_id": directory["cs"].id, "stream_id": directory["a"].id})  # "active" unticked
    assert response.status_code == 303 and "active: yes → no" in admin.get(response.location).get_data(as_text=True)
    refused = student.get(f"/attendance?token={link}")
    assert refused.status_code == 400 and "not active" in refused.get_data(as_text=True)


def test_only_admins(client, auth, directory):
    auth.login("lecturer@example.edu")
    assert client.get("/admin/students").status_code == 403
    assert client.get(f"/admin/students/{directory['amara'].id}/edit").status_code == 403
    assert client.post(f"/admin/students/{directory['amara'].id}/edit", data={}).status_code == 403


def test_a_students_language_is_chosen_from_the_portals(admin, directory):
    amara = directory["amara"]
    form = admin.get(f"/admin/students/{amara.id}/edit").get_data(as_text=True)
    assert "The portal&#39;s default (English)" in form and ">Kiswahili<" in form and ">Français<" in form
    fields = {"first_name": "Amara", "last_name": "Okafor", "email": amara.user.email,
              "program_id": directory["cs"].id, "stream_id": directory["a"].id, "active": "y"}
    assert admin.post(f"/admin/students/{amara.id}/edit", data={**fields, "language": "sw"}).status_code == 303
    db.session.refresh(amara)
    assert amara.language == "sw"
    refused = admin.post(f"/admin/students/{amara.id}/edit", data={**fields, "language": "de"})
    assert refused.status_code == 400 and "language must be one of en, sw, fr" in refused.get_data(as_text=True)
    db.session.refresh(amara)
    assert amara.language == "sw"
