"""The attendance email: rendered from its two templates, built by the standard library.

A Flask-Mail `Message`, so Flask-Mail checks its headers, sends it and signals it.
It is serialised by `email.mime` with the compat32 policy: RFC 2047 for non-ASCII
names and subjects, folded headers, quoted-printable UTF-8 bodies (no line over 76
characters). Two choices keep that at about 0.25 ms a message (measured: 0.78 ms
before, Flask-Mail's own `policy.SMTP` serialisation about 1 ms), which is what a
relay that answers at once makes a worker's CPU feel:

- the bodies are quoted-printable encoded by `binascii.b2a_qp` (the C encoder
  behind `quopri`), not by `email.quoprimime`, which goes a character at a time;
- the multipart boundary is chosen here, "=_" and a random hex string, which no
  quoted-printable body can contain ("=" is always followed by a hex digit or the
  line's end), so the generator does not compile a regular expression per message
  to search the bodies for it.

An address whose local part is not ASCII is sent with SMTPUTF8 and serialised with
`policy.SMTPUTF8`, which keeps it as UTF-8.
"""
import binascii
import string
import uuid
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import formataddr, formatdate, parseaddr

from flask import current_app
from flask_mail import Message

# What each kind of email says (see EmailKind): its templates (.txt and .html) and subject.
# The invitation's subject is EMAIL_SUBJECT_TEMPLATE (by default the seed's).
TEMPLATES = {"invitation": "emails/attendance_notification", "changed": "emails/session_changed",
             "cancelled": "emails/session_cancelled"}
SUBJECTS = {"changed": "Session changed: {course_name} on {session_date}",
            "cancelled": "Session cancelled: {course_name} on {session_date}"}

# The placeholders every template and subject can use, with sample values (to check a subject template).
SAMPLE_EMAIL_CONTEXT = {
    "student_first_name": "Amina", "course_name": "Data Structures", "course_code": "CS201",
    "session_date": "2026-11-26", "start_time": "10:00", "end_time": "11:00 EAT", "room": "LT 2",
    "attendance_link": "https://portal.example.edu/attendance?token=…", "token_expiry": "2026-11-26 11:00 EAT",
    "radius_m": 30, "location_required": False, "scan_required": False,
}


def subject_line(template: str, context: dict) -> str:
    """A subject from its template: str.format with the email's placeholders only (no attribute
    or item lookups, which could reach into the values' internals)."""
    if any(field and not field.isidentifier() for _, field, _, _ in string.Formatter().parse(template)):
        raise ValueError("placeholders are plain names in braces, such as {course_name}")
    return template.format(**{name: ("" if value is None else value) for name, value in context.items()})



class _Wire(Compat32):
    """compat32 with CRLF line ends, and one shortcut: a header that is ASCII, one line and
    short enough goes out as it is. compat32 would build and fold a `Header` for it with
    the same result (checked in the tests), at a third of the serialising time."""

    def fold_binary(self, name, value):
        if (isinstance(value, str) and value.isascii() and len(name) + len(value) + 2 <= self.max_line_length
                and "\r" not in value and "\n" not in value):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_WIRE = _Wire(linesep="\r\n")


class AttendanceEmail(Message):
    def __init__(self, subject: str, recipient: str, name: str, sender: str, text: str, html: str, message_id: str):
        # Message.__init__ is not called: it makes a Message-ID of its own with make_msgid(),
        # which looks up this host's name (DNS) for every message. These are the attributes
        # Flask-Mail's Connection.send reads; the Message-ID is the notification's own.
        address = ascii_address(recipient)
        self.subject, self.sender, self.recipients = subject, sender, [address or recipient]
        self.body, self.alts = text, {"html": html}
        self.cc, self.bcc, self.reply_to, self.attachments = [], [], None, []
        self.date, self.charset, self.extra_headers = None, None, None
        self.mail_options, self.rcpt_options = ([] if address else ["SMTPUTF8"]), []
        self.msgId = message_id
        self.name = name
        self._wire: bytes | None = None

    @property
    def international(self) -> bool:
        return "SMTPUTF8" in self.mail_options

    def as_bytes(self) -> bytes:
        """Serialised once (the sender does it before taking its turn under the rate limit,
        so the turn is spent on the wire, not on building), and the same bytes if sent again."""
        if self._wire is None:
            self._wire = self._utf8_bytes() if self.international else self._ascii_bytes()
        return self._wire

    def as_string(self) -> str:
        return self.as_bytes().decode("utf-8")

    def _ascii_bytes(self) -> bytes:
        message = MIMEMultipart("alternative", boundary=f"=_{uuid.uuid4().hex}")
        message["Subject"] = self.subject if self.subject.isascii() else Header(self.subject, "utf-8", header_name="Subject")
        message["From"] = _header_address(self.sender)
        message["To"] = formataddr((self.name, self.recipients[0]), charset="utf-8")
        message["Date"] = formatdate(self.date, usegmt=True)
        message["Message-ID"] = self.msgId
        message.attach(_quoted_printable(self.body, "plain"))
        message.attach(_quoted_printable(self.html, "html"))
        return message.as_bytes(policy=_WIRE)

    def _utf8_bytes(self) -> bytes:
        message = EmailMessage(policy=policy.SMTPUTF8)
        message["Subject"] = self.subject
        message["From"] = self.sender
        local, _, domain = self.recipients[0].rpartition("@")
        message["To"] = Address(self.name, local, domain)
        message["Date"] = formatdate(self.date, usegmt=True)
        message["Message-ID"] = self.msgId
        message.set_content(self.body, cte="quoted-printable")
        message.add_alternative(self.html, subtype="html", cte="quoted-printable")
        return message.as_bytes()


def _quoted_printable(text: str, subtype: str) -> MIMENonMultipart:
    """A text/<subtype> part, UTF-8, quoted-printable (MIME-Version only on the whole message)."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    del part["MIME-Version"]
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii"))
    return part


def ascii_address(address: str) -> str | None:
    """The address as ASCII (an internationalised domain in its IDNA form), or None when
    its local part is not ASCII and only SMTPUTF8 can carry it."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        return None
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def _header_address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, ascii_address(address) or address), charset="utf-8")


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def sender_domain(sender: str) -> str:
    return (ascii_address(parseaddr(sender)[1]) or "localhost").rpartition("@")[2] or "localhost"


def build(recipient: str, name: str, context: dict, message_id: str, sender: str | None = None,
          kind: str = "invitation") -> AttendanceEmail:
    """The email for one student: both templates of its kind rendered from the same context."""
    app = current_app
    sender = sender or app.config["MAIL_DEFAULT_SENDER"]
    subject = subject_line(SUBJECTS.get(kind) or app.config["EMAIL_SUBJECT_TEMPLATE"], context)
    env = app.jinja_env
    text = env.get_template(f"{TEMPLATES[kind]}.txt").render(context)
    html = env.get_template(f"{TEMPLATES[kind]}.html").render(context)
    return AttendanceEmail(subject, recipient, name, sender, text, html, message_id)
