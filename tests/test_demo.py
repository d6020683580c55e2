"""`make demo`'s entry point, run as a newcomer would: a fresh instance/, no Redis, no SMTP server."""
import html
import os
import re
import signal
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.cookiejar import CookieJar

import pytest

from tests.smtp_servers import free_port
from tests.support import end_process, spawn

pytestmark = pytest.mark.integration  # the demo as a process


class Browser:
    """Just enough of a browser: cookies, forms with their CSRF token, no JavaScript."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(path if path.startswith("http") else self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, fields: dict, form_page: str | None = None) -> tuple[int, str]:
        _, page = self.get(form_page or path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        with self.opener.open(self.base + path, data=data, timeout=10) as response:
            return response.status, response.read().decode()


@pytest.fixture
def demo(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DATABASE_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_RELAYS_FILE", "PORTAL_ENV",
                        "PORTAL_BASE_URL"}}
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path / "instance")
    log = tmp_path / "demo.log"
    process = spawn([sys.executable, "demo.py", "--port", str(port)], env, log)
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the demo did not start within 60 s"
            time.sleep(0.2)
        password = re.search(r"lecturer@example.edu  password: (\S+)", log.read_text()).group(1)
        yield Browser(f"http://127.0.0.1:{port}"), password, log
    finally:
        end_process(process, signal.SIGINT)  # Ctrl-C, as its banner says


def test_demo_from_a_fresh_instance_delivers_to_its_outbox(demo):
    browser, password, log = demo
    status, page = browser.post("/login", {"email": "lecturer@example.edu", "password": password})
    assert status == 200 and "Sessions" in page

    _, form = browser.get("/sessions/new")
    course = re.search(r'<option[^>]* value="(\d+)"[^>]*>CS201', form).group(1)
    program = re.search(r'<option value="(\d+)">BSC-CS', form).group(1)
    start = datetime.now(timezone.utc) - timedelta(minutes=2)
    end = min(start + timedelta(minutes=50), start.replace(hour=23, minute=59))
    if end <= start:
        start -= timedelta(minutes=10)
    status, page = browser.post("/sessions/new", {
        "course_id": course, "program_id": program, "stream_id": "", "session_date": start.strftime("%Y-%m-%d"),
        "start_time": start.strftime("%H:%M"), "end_time": end.strftime("%H:%M")})
    assert "Notifying 40 students." in page

    # The demo's relay refuses two students for good and greylists one once (retried 5 s later).
    deadline = time.monotonic() + 60
    while True:
        _, outbox = browser.get("/dev/outbox")
        if outbox.count("Attendance Session Created: Data Structures") == 38:
            break
        assert time.monotonic() < deadline, "emails did not reach the outbox"
        time.sleep(0.5)
    cell = '<td class="text-break">{}</td>'.format
    assert cell("student05@example.edu") in outbox and cell("student03@example.edu") not in outbox
    assert '<td class="small">campus</td>' in outbox and '<td class="small">backup</td>' in outbox  # both relays
    _, failed = browser.get("/notifications?status=failed")
    assert failed.count('data-status="failed"') == 2 and "550 5.1.1" in failed

    number = re.search(r'href="/dev/outbox/(\d+)"', outbox).group(1)
    _, message = browser.get(f"/dev/outbox/{number}")
    link = html.unescape(re.search(r'class="btn btn-primary attendance-link" href="([^"]+)"', message).group(1))
    assert link.startswith(browser.base + "/attendance?token=")
    status, confirm = browser.get(link)
    assert status == 200 and "confirm my attendance" in confirm
    status, email_html = browser.get(f"/dev/outbox/{number}/html")
    assert status == 200 and "Mark my attendance" in email_html
    _, register = browser.get(f"/courses/{course}/register")  # four past weeks of CS201 come with the demo
    assert "40 students, 5 sessions." in register and "7 below 75%" in register
    assert "Traceback" not in log.read_text()


def test_demo_relay_can_refuse_logins_and_an_admin_resumes(demo):
    browser, password, log = demo
    browser.post("/login", {"email": "admin@example.edu", "password": password})
    status, outbox = browser.post("/dev/outbox/logins", {"refuse": "yes"}, "/dev/outbox")
    assert status == 200 and "Refusing logins" in outbox
    _, form = browser.get("/sessions/new")
    course = re.search(r'<option[^>]* value="(\d+)"[^>]*>BUS110', form).group(1)
    program = re.search(r'<option value="(\d+)">BBA', form).group(1)
    start = datetime.now(timezone.utc) + timedelta(minutes=5)
    if (start + timedelta(minutes=1)).date() != start.date():
        start += timedelta(minutes=5)  # its one minute may not cross midnight
    browser.post("/sessions/new", {"course_id": course, "program_id": program, "stream_id": "",
                                   "session_date": start.strftime("%Y-%m-%d"), "start_time": start.strftime("%H:%M"),
                                   "end_time": (start + timedelta(minutes=1)).strftime("%H:%M")})
    # The campus relay pauses; the backup relay carries its emails: the class is delivered meanwhile.
    deadline = time.monotonic() + 30
    while "Resume campus" not in (queue := browser.get("/admin/queue")[1]):
        assert time.monotonic() < deadline, "the campus relay did not pause"
        time.sleep(0.5)
    assert "535" in queue and "Delivery running through 1 of 2 relays." in queue
    deadline = time.monotonic() + 30
    while browser.get("/dev/outbox")[1].count("Principles of Accounting") < 20:
        assert time.monotonic() < deadline, "the backup relay did not carry the class"
        time.sleep(0.5)
    browser.post("/dev/outbox/logins", {"refuse": "no"}, "/dev/outbox")
    status, queue = browser.post("/admin/queue/resume", {"relay": "campus"}, "/admin/queue")
    # The admin's resume, or the relay probe's a moment before it (the relay accepts logins again).
    assert status == 200 and ("Delivery through campus resumed" in queue or "was not paused" in queue)
    assert "Resume campus" not in queue
