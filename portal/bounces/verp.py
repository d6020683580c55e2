"""The return path of each email (VERP): MAIL_RETURN_PATH with `{token}` replaced by the email's
own bounce token, so a bounce report names the email it is about by the address it was sent to.

The token is random (see `new_bounce_token`), never the attendance link's token, and unguessable:
a forged report can only name an email its author was sent.
"""
import functools
import re

from portal.exceptions import ConfigurationError

PLACEHOLDER = "{token}"
TOKEN = r"([0-9a-f]{8,32})"


def check(template: str) -> None:
    """ConfigurationError unless `template` is an address with `{token}` once, in its local part."""
    local, at, domain = template.rpartition("@")
    if not at or not local or "." not in domain or template.count(PLACEHOLDER) != 1 or PLACEHOLDER not in local:
        raise ConfigurationError(f"MAIL_RETURN_PATH must be an address with {PLACEHOLDER} once in the part before "
                                 f"the @, such as bounces+{PLACEHOLDER}@attendance.example.edu, got {template!r}")
    if any(char.isspace() or char in "<>\"," for char in template):
        raise ConfigurationError(f"MAIL_RETURN_PATH must be a bare address (no name, spaces or brackets), "
                                 f"got {template!r}")


def address(template: str, token: str | None) -> str | None:
    """The return path of the email with this token (None for an email without one)."""
    return template.replace(PLACEHOLDER, token) if token else None


def tokens_in(template: str, text: str) -> list[str]:
    """The tokens of every return path of `template` found in `text` (a header's value), in order.
    Mail servers may change the case of an address: matched without regard to it."""
    return [token.lower() for token in _pattern(template).findall(text or "")]


@functools.cache
def _pattern(template: str) -> re.Pattern:
    """The whole address: not the tail of a longer local part, nor the start of a longer domain."""
    before, _, after = template.partition(PLACEHOLDER)
    return re.compile(r"(?<![\w.+-])" + re.escape(before) + TOKEN + re.escape(after) + r"(?![\w.-])", re.IGNORECASE)
