"""What a message in the bounce mailbox says: which email bounced, for good or for now, and why.

flufl.bounce (Mailman's detectors: RFC 3464 delivery status notifications, and the formats of
the common servers that write none) decides whether a message is a bounce and which addresses
failed, permanently or temporarily. The reason is the report's own words for that address: its
Diagnostic-Code, else its Status, else the report's subject. Its enhanced status code says
whether the failure is the address's (no such user, a full mailbox, a domain without mail) or
the message's or the sender's (refused by policy): only the first flags the address. The email
it is about is the
`{token}` of the return path the report was sent to (see `verp`); nothing else in a report is
trusted to name an email.
"""
import email
import hashlib
import logging
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import parseaddr

from flufl.bounce import all_failures

from portal.bounces import verp

# flufl.bounce says which of its 17 detectors it runs, for every message: not worth a worker's log.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

PERMANENT, TEMPORARY = "permanent", "temporary"
# Where a report carries the address it was sent to: the envelope's recipient as the mailbox's
# server recorded it, then the header (a report goes to the return path of the email it returns).
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
REPLY_CODE = re.compile(r"\b([245]\d\d)\b")
# A multi-line reply quoted whole repeats its code on each line ("550-5.1.1 … 550 5.1.1 …").
CONTINUATION = re.compile(r"\s[245]\d\d[- ](?:[245]\.\d{1,3}\.\d{1,3}\s)?")
ENHANCED_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")  # RFC 3463: class.subject.detail
# The subjects of a failure that is the address's (RFC 3463): 1 addressing (no such user), 2 the
# mailbox (full, disabled), 4 routing (a domain with no mail server). The others are the message's
# or a policy's, not the address's: 3 the mail system (too big), 5 protocol, 6 content, 7 security
# and policy (the receiving server refused the sender: SPF, DKIM, DMARC, a block list).
ADDRESS_SUBJECTS = {"1", "2", "4"}
MAX_REASON = 500


@dataclass(frozen=True)
class Report:
    report_id: str  # the report's Message-ID, or a digest of it: the same report read twice is seen as one
    kind: str  # PERMANENT or TEMPORARY
    address: str | None  # the address that failed, as the report names it
    reason: str
    smtp_code: int | None  # the reply code the report quotes, if any
    tokens: tuple[str, ...]  # the bounce tokens of the return paths the report was sent to
    status: str | None = None  # the enhanced status code ("5.1.1"), from the report's Status or its reason

    @property
    def about_the_address(self) -> bool:
        """Whether the failure is the address's (see ADDRESS_SUBJECTS): only then is the student's
        address flagged as bouncing. A report that gives no status is taken as the address's."""
        return self.status is None or self.status.split(".")[1] in ADDRESS_SUBJECTS


def read(raw: bytes, return_path: str) -> Report | None:
    """The report in `raw` (a whole message as the mailbox keeps it), or None when it is not a bounce."""
    message = email.message_from_bytes(raw)
    temporary, permanent = all_failures(message)
    if not (temporary or permanent):
        return None
    kind = PERMANENT if permanent else TEMPORARY
    failed = sorted(address.decode("ascii", "replace") for address in (permanent or temporary))
    address = failed[0] if failed else None
    block = _block(message, address)
    reason = (block and _reason(block)) or _text(message.get("Subject")) or "reported undeliverable"
    status = ENHANCED_STATUS.search(_text(block.get("Status")) if block else "") or ENHANCED_STATUS.search(reason)
    return Report(
        report_id=_report_id(message, raw), kind=kind, address=address, reason=reason[:MAX_REASON],
        smtp_code=_reply_code(reason), status=status.group(0) if status else None,
        tokens=tuple(dict.fromkeys(token for name in RECIPIENT_HEADERS for value in message.get_all(name, [])
                                   for token in verp.tokens_in(return_path, str(value)))))


def _block(message: Message, address: str | None) -> Message | None:
    """The RFC 3464 report's block for `address` (else its first block; None in other formats)."""
    blocks = [block for part in message.walk() if part.get_content_type() == "message/delivery-status"
              and part.is_multipart() for block in part.get_payload() if block.get("Action")]
    if not blocks:
        return None
    mine = [block for block in blocks if address and any(
        address.lower() in str(block.get(name, "")).lower() for name in ("Final-Recipient", "Original-Recipient"))]
    return (mine or blocks)[0]


def _reason(block: Message) -> str | None:
    """The block's Diagnostic-Code (else its Status)."""
    diagnostic = _text(block.get("Diagnostic-Code"))
    if diagnostic:
        kind, _, said = diagnostic.partition(";")
        said = (said if said and kind.strip().lower() in {"smtp", "x-postfix", "x-unix"} else diagnostic).strip()
        return CONTINUATION.sub(" ", re.sub(r"^([245]\d\d)-", r"\1 ", said))
    status = _text(block.get("Status"))
    return f"status {status}" if status else None


def _reply_code(reason: str) -> int | None:
    found = REPLY_CODE.search(reason)
    return int(found.group(1)) if found else None


def _report_id(message: Message, raw: bytes) -> str:
    message_id = parseaddr(_text(message.get("Message-ID")) or "")[1] or _text(message.get("Message-ID"))
    if message_id:
        return message_id[:255]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _text(value) -> str:
    """A header's value on one line (reports fold long Diagnostic-Codes)."""
    return " ".join(str(value).split()) if value is not None else ""
