"""The notifications page: filters, pagination, bulk retry, and a bounded number of queries."""
import pytest

from portal.extensions import db
from portal.models import EmailNotification
from tests.factories import add_notifications, counting_queries, make_session, make_students


@pytest.fixture
def failed_ids(people):
    profiles = make_students(people["course"].program, 3, prefix="fail")
    return add_notifications(people["own_session"], profiles)


def test_filters_by_status_session_and_search(client, auth, people, failed_ids):
    sent_profiles = make_students(people["course"].program, 2, prefix="okay")
    add_notifications(people["other_session"], sent_profiles, status="sent", error=None)
    auth.login("admin@example.edu")
    assert client.get("/notifications").get_data(as_text=True).count("<tr data-status=") == 5
    failed = client.get("/notifications?status=failed").get_data(as_text=True)
    assert failed.count('data-status="failed"') == 3 and 'data-status="sent"' not in failed
    by_session = client.get(f"/notifications?session_id={people['other_session'].id}").get_data(as_text=True)
    assert by_session.count('data-status="sent"') == 2 and 'data-status="failed"' not in by_session
    found = client.get("/notifications?q=okay-1").get_data(as_text=True)
    assert found.count("<tr data-status=") == 1
    assert client.get("/notifications?q=OKAY").get_data(as_text=True).count("<tr data-status=") == 2
    assert client.get("/notifications?q=%25").get_data(as_text=True).count("<tr data-status=") == 0
    assert "Recipient refused by mail server" in failed
    assert client.get("/notifications?status=bogus&page=999").status_code == 200


def test_lecturers_see_only_notifications_of_their_sessions_and_no_retry_controls(client, auth, people, failed_ids):
    add_notifications(people["other_session"], make_students(people["course"].program, 2, prefix="theirs"))
    auth.login("lecturer@example.edu")
    html = client.get("/notifications").get_data(as_text=True)
    assert html.count("<tr data-status=") == 3
    assert "theirs" not in html
    assert 'name="notification_ids"' not in html
    other = client.get(f"/notifications?session_id={people['other_session'].id}").get_data(as_text=True)
    assert "<tr data-status=" not in other


def test_admin_sees_checkboxes_only_on_failed_rows(client, auth, people, failed_ids):
    add_notifications(people["other_session"], make_students(people["course"].program, 2), status="sent", error=None)
    auth.login("admin@example.edu")
    html = client.get("/notifications").get_data(as_text=True)
    assert html.count('name="notification_ids"') == 3
    assert "Select all failed or bounced on this page" in html


def test_retry_asks_to_confirm_then_retries_and_flashes_the_summary(client, auth, app, people, failed_ids):
    sent = add_notifications(people["other_session"], make_students(people["course"].program, 1), status="sent",
                             error=None)
    auth.login("admin@example.edu")
    chosen = failed_ids[:2] + sent[:1] + [987654]
    confirm = client.post("/notifications/retry", data={"notification_ids": chosen, "next": "/notifications?status=failed"})
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "Retry 4 notifications?" in html and 'name="confirm" value="yes"' in html
    assert db.session.get(EmailNotification, failed_ids[0]).status == "failed"  # nothing yet

    done = client.post("/notifications/retry", data={"notification_ids": chosen, "confirm": "yes",
                                                     "next": "/notifications?status=failed"})
    assert done.status_code == 302 and done.location == "/notifications?status=failed"
    db.session.expire_all()
    assert [db.session.get(EmailNotification, i).status for i in failed_ids] == ["pending", "pending", "failed"]
    assert len(app.extensions["rq_queues"]["normal"].job_ids) == 1  # bulk retries wait behind classes starting now
    page = client.get(done.location).get_data(as_text=True)
    assert "Retried 2 notifications; skipped 1; 1 not found." in page
    assert f"Notification {sent[0]} skipped: it is sent, not failed" in page
    assert "Notification 987654 not found" in page


def test_retry_without_a_selection_or_with_junk(client, auth, people, failed_ids):
    auth.login("admin@example.edu")
    response = client.post("/notifications/retry", data={}, follow_redirects=True)
    assert "Select at least one failed or bounced notification" in response.get_data(as_text=True)
    bad = client.post("/notifications/retry", data={"notification_ids": ["1", "x"]})
    assert bad.status_code == 400 and b"whole numbers" in bad.data


def test_retry_ignores_an_offsite_next(client, auth, people, failed_ids):
    auth.login("admin@example.edu")
    response = client.post("/notifications/retry", data={"notification_ids": failed_ids[:1], "confirm": "yes",
                                                         "next": "https://evil.example.com/"})
    assert response.location == "/notifications?status=failed"


def test_pages_are_paginated(client, auth, people):
    add_notifications(people["own_session"], make_students(people["course"].program, 120))
    auth.login("admin@example.edu")
    first = client.get("/notifications").get_data(as_text=True)
    assert first.count("<tr data-status=") == 50
    assert "120 notifications" in first
    third = client.get("/notifications?page=3").get_data(as_text=True)
    assert third.count("<tr data-status=") == 20
    assert 'aria-current="page">3<' in third


def test_queries_per_page_do_not_grow_with_rows(client, auth, app, people):
    auth.login("admin@example.edu")
    small = make_session(people["course"], lecturer=people["lecturer"])
    big = make_session(people["course"], lecturer=people["lecturer"])
    add_notifications(small, make_students(people["course"].program, 10, prefix="small"))
    add_notifications(big, make_students(people["course"].program, 1000, prefix="big"))
    counts = {}
    for name, session in (("small", small), ("big", big)):
        for url in (f"/notifications?session_id={session.id}", f"/sessions/{session.id}", "/sessions"):
            client.get(url)  # warm up: the first request also loads what later ones find cached
            with counting_queries() as statements:
                assert client.get(url).status_code == 200
            counts[(name, url.split("?")[0].replace(str(session.id), "<id>"))] = len(statements)
    for page in ("/notifications", "/sessions/<id>", "/sessions"):
        assert counts[("small", page)] == counts[("big", page)], counts
        assert counts[("big", page)] <= 8, counts


def test_names_with_markup_are_escaped_everywhere(client, auth, app, people, run_worker):
    evil = "<script>alert(1)</script>"
    people["course"].course_name = evil
    profile = make_students(people["course"].program, 1, prefix="evil")[0]
    profile.user.first_name = evil
    db.session.commit()
    add_notifications(people["own_session"], [profile], error=f"Refused {evil}")
    auth.login("admin@example.edu")
    for url in ("/sessions", f"/sessions/{people['own_session'].id}", "/notifications", "/admin/courses",
                "/sessions/new"):
        html = client.get(url).get_data(as_text=True)
        assert evil not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_a_retry_while_the_queue_is_down_says_so(client, auth, app, people, failed_ids):
    from tests.support import queue_down

    auth.login("admin@example.edu")
    with queue_down(app):
        done = client.post("/notifications/retry", data={"notification_ids": failed_ids[:1], "confirm": "yes"})
    page = client.get(done.location).get_data(as_text=True)
    assert "Retried 1 notification; skipped 0; 0 not found. They are pending again, but could not be queued. " \
           "The delivery queue is not reachable right now; emails will go out automatically as soon as it is back." \
           in page
    assert "alert-warning" in page and "alert-success" not in page
    db.session.expire_all()
    assert db.session.get(EmailNotification, failed_ids[0]).status == "pending"  # the sweep sends it later
