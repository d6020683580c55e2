"""Which relay a limit or a pause belongs to: its server, port and account.

Each relay keeps its own state in Redis (the connection cap, the rate window, the pace
it asked for, its pause): a relay that said "slow down" or refused our login must not
slow or stop a different relay, or the same server used with another account.
"""
from dataclasses import dataclass

from flask import current_app

PREFIX = "portal:delivery:relay"


@dataclass(frozen=True)
class Relay:
    server: str
    port: int
    account: str = ""  # the login name; "" when the relay takes mail without one

    @classmethod
    def of(cls, config) -> "Relay":
        return cls(str(config["MAIL_SERVER"]), int(config["MAIL_PORT"]), config.get("MAIL_USERNAME") or "")

    @classmethod
    def current(cls) -> "Relay":
        """The relay this app sends through."""
        return cls.of(current_app.config)

    def key(self, name: str) -> str:
        """The Redis key of this relay's `name` (connections, rate, pace, paused, ...)."""
        return f"{PREFIX}:{self.server}:{self.port}:{self.account}:{name}"

    def __str__(self) -> str:
        return f"{self.server}:{self.port}" + (f" ({self.account})" if self.account else "")
