"""Student card codes: what the QR code on a student's card holds, and a scan checked against it.

A card code defaults to the student number, which is what most institutions' cards already
encode. A student number is not secret, so an institution that wants the scan to prove more
prints its own cards (`/admin/cards`) after giving everyone a random code (`reissue`). Pages
show a code's last four characters at most (`masked`): the code is what a forger would need.
"""
import hmac
import secrets

import segno
from markupsafe import Markup

from portal import audit
from portal.extensions import db
from portal.models import StudentProfile
from portal.repositories import StudentProfileRepository

MAX_LENGTH = 128  # the column's length; a scan longer than this is nobody's card
# No 0/O, 1/I/L: a code is sometimes read out over the phone to the help desk.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
NEW_CODE_LENGTH = 12  # 31**12, about 2**59: not guessable in the link's few attempts


def matches(scanned: str | None, card_code: str) -> bool:
    """Whether a scan is this card, in constant time (how much of a guess was right must not
    show in how long the answer takes)."""
    if not scanned or len(scanned) > MAX_LENGTH:
        return False
    return hmac.compare_digest(scanned.strip().encode("utf-8"), card_code.encode("utf-8"))


def masked(card_code: str | None) -> str:
    """The last four characters at most, and fewer of a short code, so most of it stays hidden."""
    if not card_code:
        return "—"
    shown = 4 if len(card_code) >= 8 else 2 if len(card_code) >= 4 else 0
    return "…" + card_code[len(card_code) - shown:]


def masked_change(old_code: str | None, new_code: str | None) -> tuple[str, str]:
    """A card code before and after an edit as an admin reads them: no new code keeps the old
    one, and a different code that ends in the same characters is told apart by "(new)"."""
    before = masked(old_code)
    if not new_code or new_code == old_code:
        return before, before
    after = masked(new_code)
    return before, after if after != before else after + " (new)"


def qr_svg(card_code: str) -> Markup:
    """The card's QR code as inline SVG (segno draws only paths: nothing from the code is markup)."""
    return Markup(segno.make(card_code, error="m", micro=False).svg_inline(border=2, dark="#000", omitsize=True))


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(NEW_CODE_LENGTH))


def reissue(profile: StudentProfile, by=None) -> str:
    """A new random code for a lost card, committed: from now on only a card with it scans as theirs."""
    code = new_code()
    while StudentProfileRepository().card_code_taken(code):
        code = new_code()  # 2**59 codes: practically never
    profile.card_code = code
    audit.record(by, "student.card", f"{profile.student_number} ({profile.user.full_name})",
                 f"new code ending {masked(code)}; the old card no longer scans")
    db.session.commit()
    return code
