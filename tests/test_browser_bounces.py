"""Late bounces in a real browser: an admin finds the students whose addresses bounced and
corrects one, and the session's page says what came back (each page checked by Nu and axe)."""
from playwright.sync_api import expect

from portal.database import utcnow
from portal.extensions import db
from portal.models import DeliveryAttempt
from tests.browser import shot, sign_in
from tests.factories import add_notifications, make_students

REASON = "550 5.1.1 The email account that you tried to reach does not exist."


def test_an_admin_finds_the_bouncing_addresses_and_corrects_one(page, portal_url, people):
    session = people["own_session"]
    amina, baraka, chloe = make_students(people["course"].program, 3, prefix="bnc")
    for student, (first, last) in zip((amina, baraka, chloe), (("Amina", "Otieno"), ("Baraka", "Mwangi"),
                                                                ("Chloe", "Dubois"))):
        student.user.first_name, student.user.last_name = first, last
    bounced_ids = add_notifications(session, [amina, baraka], status="bounced", error=REASON)
    add_notifications(session, [chloe], status="sent", error=None)
    for notification_id, student in zip(bounced_ids, (amina, baraka), strict=True):
        db.session.add(DeliveryAttempt(notification_id=notification_id, attempted_at=utcnow(), outcome="bounced",
                                       smtp_code=550, detail=f"{student.user.email}: {REASON}", relay="default",
                                       report_id=f"{notification_id}:<r@mx>"))
        student.bounced_email, student.bounced_at, student.bounce_reason = student.user.email, utcnow(), REASON
    db.session.commit()

    sign_in(page, portal_url, "admin@example.edu")
    page.goto(f"{portal_url}/sessions/{session.id}")
    expect(page.locator("#delivery-summary")).to_contain_text("2 bounced later")
    page.get_by_role("link", name="Review bounced emails").click()
    expect(page.locator("tbody tr[data-status='bounced']")).to_have_count(2)
    shot(page, "notifications-bounced")

    page.get_by_role("button", name="Admin").click()
    page.get_by_role("link", name="Addresses bouncing").click()
    rows = page.locator("#students tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("address bouncing")
    expect(rows.first).to_contain_text("The email account that you tried to reach does not exist")
    shot(page, "admin-addresses-bouncing")

    page.get_by_role("link", name="Edit Amina Otieno").click()
    expect(page.locator("#address-bouncing")).to_contain_text(amina.user.email)
    page.get_by_label("Email").fill("amina.otieno@example.edu")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("1 bounced email sent again to the new address")
    page.goto(f"{portal_url}/admin/students?email=bouncing")
    expect(page.locator("#students tbody tr")).to_have_count(1)
    expect(page.locator("#students")).to_contain_text("Mwangi")
