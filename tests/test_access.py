"""Who may open what: every protected route, for every kind of visitor."""
import pytest

from portal.extensions import db
from tests.factories import make_notification, make_students

STAFF_PAGES = ["/sessions", "/sessions/new", "/notifications", "/sessions/{own}", "/sessions/{own}/progress",
               "/sessions/{own}/attendance", "/sessions/{own}/attendance.csv", "/courses/{course}/register",
               "/courses/{course}/register.csv", "/account"]
ADMIN_PAGES = ["/admin/programs", "/admin/courses", "/admin/staff", "/admin/import", "/admin/queue",
               "/admin/students", "/admin/audit", "/admin/courses/{course}", "/admin/programs/{program}/edit",
               "/admin/staff/{lecturer_id}/password"]
ADMIN_POSTS = ["/notifications/retry", "/admin/programs", "/admin/courses", "/admin/staff", "/admin/import",
               "/admin/staff/{lecturer_id}/active", "/admin/queue/sweep", "/admin/queue/pause",
               "/admin/queue/resume", "/admin/import/confirm", "/admin/courses/{course}",
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


# Every route about one session or one course's register, for the lecturer who teaches the course
# and owns the session, another lecturer (who does not teach it), and an admin.
SESSION_ROUTES = [("GET", "/sessions/{own}"), ("GET", "/sessions/{own}/progress"), ("GET", "/sessions/{own}/edit"),
                  ("POST", "/sessions/{own}/edit"), ("GET", "/sessions/{own}/cancel"), ("POST", "/sessions/{own}/cancel"),
                  ("POST", "/sessions/{own}/send-now"), ("GET", "/sessions/{own}/attendance"),
                  ("GET", "/sessions/{own}/attendance.csv"), ("POST", "/sessions/{own}/attendance/marks"),
                  ("POST", "/sessions/{own}/attendance/accept-all"), ("POST", "/sessions/{own}/attendance/save"),
                  ("GET", "/courses/{course}/register"),
                  ("GET", "/courses/{course}/register.csv")]


@pytest.mark.parametrize("method, url", SESSION_ROUTES)
@pytest.mark.parametrize("who, allowed", [("lecturer", True), ("other", False), ("admin", True)])
def test_sessions_and_registers_are_for_their_lecturer_and_admins(client, auth, people, method, url, who, allowed):
    auth.login(f"{who}@example.edu")
    response = client.open(fill(url, people), method=method, data={})
    if allowed:
        assert response.status_code not in (403, 404), response.status_code
    else:
        assert response.status_code == 404  # as if it did not exist


def test_a_lecturer_who_once_had_a_session_of_the_course_does_not_see_its_register(client, auth, people):
    auth.login("other@example.edu")  # owns a CS201 session, is not assigned to CS201
    assert client.get(f"/sessions/{people['other_session'].id}").status_code == 200  # their own session, still
    assert client.get(f"/courses/{people['course'].id}/register").status_code == 404


def test_progress_is_json(client, auth, people):
    auth.login("lecturer@example.edu")
    data = client.get(f"/sessions/{people['own_session'].id}/progress").get_json()
    assert data["session_id"] == people["own_session"].id
    assert set(data["counts"]) == {"pending", "sending", "sent", "failed", "withdrawn", "bounced"}
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
