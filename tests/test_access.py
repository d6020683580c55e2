"""Who may open what: every protected route, for every kind of visitor."""
import pytest

from portal.extensions import db
from tests.factories import make_notification, make_students

STAFF_PAGES = ["/sessions", "/sessions/new", "/notifications", "/sessions/{own}", "/sessions/{own}/progress",
               "/sessions/{own}/attendance", "/sessions/{own}/attendance.csv", "/courses/{course}/register",
               "/courses/{course}/register.csv", "/account"]
ADMIN_PAGES = ["/admin/programs", "/admin/courses", "/admin/staff", "/admin/import", "/admin/queue",
               "/admin/students", "/admin/audit", "/admin/courses/{course}/edit", "/admin/programs/{program}/edit",
               "/admin/staff/{lecturer_id}/password"]
ADMIN_POSTS = ["/notifications/retry", "/admin/programs", "/admin/courses", "/admin/staff", "/admin/import",
               "/admin/staff/{lecturer_id}/active", "/admin/queue/sweep", "/admin/queue/pause",
               "/admin/queue/resume", "/admin/import/confirm", "/admin/courses/{course}/edit",
               "/admin/programs/{program}/edit", "/admin/staff/{lecturer_id}/password"]


def fill(url: str, people) -> str:
    return url.format(own=people["own_session"].id, other=people["other_session"].id,
                      lecturer_id=people["lecturer"].id, course=people["course"].id,
                      program=people["course"].program_id)


@pytest.mark.parametrize("url", STAFF_PAGES + ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, people, url):
    response = client.get(fill(url, people))
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize("url", ["/notifications/retry", "/logout", "/sessions/new"])
def test_anonymous_posts_are_sent_to_sign_in(client, people, url):
    response = client.post(url, data={"notification_ids": "1"})
    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_lecturers_get_403_on_admin_pages(client, auth, people, url):
    auth.login("lecturer@example.edu")
    response = client.get(fill(url, people))
    assert response.status_code == 403
    assert b"You do not have access" in response.data


@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_lecturers_get_403_on_admin_actions(client, auth, people, url):
    auth.login("lecturer@example.edu")
    assert client.post(fill(url, people), data={"notification_ids": "1", "confirm": "yes"}).status_code == 403


@pytest.mark.parametrize("url", ["/sessions/{other}", "/sessions/{other}/progress", "/sessions/{other}/attendance",
                                 "/sessions/{other}/attendance.csv"])
def test_lecturers_cannot_see_another_lecturers_session(client, auth, people, url):
    auth.login("lecturer@example.edu")
    assert client.get(fill(url, people)).status_code == 404


@pytest.mark.parametrize("who, own, other", [("lecturer", 200, 404), ("admin", 200, 200)])
def test_an_emails_page_is_for_admins_and_the_sessions_lecturer(client, auth, people, who, own, other):
    student = make_students(people["course"].program, 1)[0]
    ids = {name: make_notification(people[f"{name}_session"], student).id for name in ("own", "other")}
    assert client.get(f"/notifications/{ids['own']}").status_code == 302  # anonymous: sign in first
    auth.login(f"{who}@example.edu")
    assert client.get(f"/notifications/{ids['own']}").status_code == own
    assert client.get(f"/notifications/{ids['other']}").status_code == other
    assert client.get("/notifications/987654").status_code == 404


def test_lecturer_lists_show_only_their_own_sessions(client, auth, people):
    auth.login("lecturer@example.edu")
    sessions_page = client.get("/sessions").get_data(as_text=True)
    assert f"/sessions/{people['own_session'].id}\"" in sessions_page
    assert f"/sessions/{people['other_session'].id}\"" not in sessions_page


@pytest.mark.parametrize("url", STAFF_PAGES + ADMIN_PAGES + ["/sessions/{other}", "/sessions/{other}/progress"])
def test_admins_see_everything(client, auth, people, url):
    auth.login("admin@example.edu")
    assert client.get(fill(url, people)).status_code == 200


def test_progress_is_json(client, auth, people):
    auth.login("lecturer@example.edu")
    data = client.get(f"/sessions/{people['own_session'].id}/progress").get_json()
    assert data["session_id"] == people["own_session"].id
    assert set(data["counts"]) == {"pending", "sending", "sent", "failed", "withdrawn"}
    assert client.get(f"/sessions/{people['other_session'].id}/progress").get_json()["status"] == 404


def test_home_redirects_by_sign_in_state(client, auth, people):
    assert client.get("/").location == "/login"
    auth.login("lecturer@example.edu")
    assert client.get("/").location == "/sessions"


def test_a_deactivated_account_loses_access_at_once(client, auth, people):
    auth.login("lecturer@example.edu")
    assert client.get("/sessions").status_code == 200
    people["lecturer"].is_active = False
    db.session.commit()
    assert client.get("/sessions").status_code == 302
