"""The device label on the attendance view; the CSV keeps the whole user agent."""
from datetime import timedelta

import pytest

from portal.register.devices import device_label
from tests.factories import link_for, make_session, make_students

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.2 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize("user_agent, label", [
    (IPHONE, "iPhone · Safari"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099"
     ".119 Mobile/15E148 Safari/604.1", "iPhone · Chrome"),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile "
     "Safari/537.36", "Android · Chrome"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 "
     "Edg/120.0.0.0", "Windows · Edge"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0", "Mac · Firefox"),
    ("PhoneBrowser/1.0", ""),  # the page says "Unknown device", in its language
    ("", ""),
    (None, ""),
])
def test_device_labels(user_agent, label):
    assert device_label(user_agent) == label


def test_the_attendance_view_shows_the_label_and_the_csv_the_whole_string(app, client, auth, people):
    session = make_session(people["course"], lecturer=people["lecturer"], starts_in=timedelta(minutes=-1))
    student = make_students(people["course"].program, 1)[0]
    token = link_for(app, session, student)
    assert client.post("/attendance", data={"token": token}, headers={"User-Agent": IPHONE}).status_code == 200
    auth.login("lecturer@example.edu")
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert ">iPhone · Safari</td>" in page
    assert IPHONE in client.get(f"/sessions/{session.id}/attendance.csv").get_data(as_text=True)
