"""OAuth 2.0 access tokens for signing in to a relay with SASL XOAUTH2.

Microsoft 365 ends password (Basic) sign-in for SMTP; Google Workspace wants OAuth or an
app password. The token comes from the relay's token endpoint through Authlib: the
client-credentials grant (Microsoft 365's app-only sending), or the refresh-token grant
when the relay has an `oauth_refresh_token` (Google, or any provider).

One token per relay account, shared by every worker through Redis (encrypted with a key
derived from SECRET_KEY, so a copy of Redis holds no usable token) and fetched again a
little before it expires: a class of 2,000 students costs one token request, not one per
connection. One worker fetches while the others wait a moment for its result. A refresh
token the provider rotates is kept in Redis too, so the next refresh uses the new one.

Neither tokens nor secrets are ever logged; a failure says which endpoint, and what it
answered, in one line.
"""
import base64
import hashlib
import logging
import time

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError

from portal.delivery.relays import Relay

log = logging.getLogger(__name__)

EARLY_SECONDS = 300  # fetch a new token this long before the old one expires (or at 80% of a short life)
LOCK_SECONDS = 30


class TokenUnavailable(Exception):
    """The token endpoint could not be reached, or refused the client: delivery through the relay pauses."""


class AccessTokens:
    """The access token of one relay account."""

    def __init__(self, redis: Redis, relay: Relay, secret_key: str, timeout: float = 30):
        self.redis, self.relay, self.timeout = redis, relay, timeout
        self.fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"relay-oauth-token:" + secret_key.encode())
                                                      .digest()))

    @classmethod
    def for_relay(cls, relay: Relay) -> "AccessTokens | None":
        if relay.auth != "xoauth2":
            return None
        app = current_app
        return cls(app.extensions["redis"], relay, app.config["SECRET_KEY"], app.config["MAIL_TIMEOUT_SECONDS"])

    def get(self) -> str:
        """A token that has a few minutes of life left: the shared one, or a new one."""
        return self._cached() or self._fetch_once(stale=None)

    def renew(self, refused: str) -> str:
        """The relay refused `refused`: a new token, unless another worker has already fetched one."""
        current = self._cached()
        if current and current != refused:
            return current
        self._forget(refused)
        return self._fetch_once(stale=refused)

    # --- Redis -------------------------------------------------------------------------

    def _cached(self) -> str | None:
        try:
            stored = self.redis.get(self.relay.key("oauth-token"))
        except RedisError:
            return None
        if not stored:
            return None
        try:
            return self.fernet.decrypt(stored).decode()
        except InvalidToken:  # SECRET_KEY changed since it was stored
            return None

    def _forget(self, token: str) -> None:
        try:
            if self._cached() == token:
                self.redis.delete(self.relay.key("oauth-token"))
        except RedisError:
            pass

    def _fetch_once(self, stale: str | None) -> str:
        """Fetch under a lock, so one worker asks the endpoint while the others wait for its answer."""
        lock = self.relay.key("oauth-lock")
        deadline = time.monotonic() + self.timeout + 5
        while True:
            try:
                got_lock = self.redis.set(lock, "1", nx=True, ex=LOCK_SECONDS)
            except RedisError:
                return self._fetch()  # no Redis: every worker asks for itself
            if got_lock:
                try:
                    cached = self._cached()
                    return cached if cached and cached != stale else self._fetch()
                finally:
                    self.redis.delete(lock)
            time.sleep(0.05)
            cached = self._cached()
            if cached and cached != stale:
                return cached
            if time.monotonic() > deadline:
                return self._fetch()

    def _fetch(self) -> str:
        relay = self.relay
        refresh_token = self._refresh_token()
        try:
            # The secret in the form body: the way Microsoft's and Google's token endpoints both document.
            method = "client_secret_post" if relay.oauth_client_secret else "none"
            with OAuth2Session(relay.oauth_client_id, relay.oauth_client_secret, scope=relay.oauth_scope,
                               token_endpoint_auth_method=method) as client:
                if refresh_token:
                    token = client.refresh_token(relay.oauth_token_url, refresh_token=refresh_token,
                                                 timeout=self.timeout)
                else:
                    token = client.fetch_token(relay.oauth_token_url, grant_type="client_credentials",
                                               timeout=self.timeout)
        except OAuthError as exc:
            description = f": {exc.description}" if exc.description else ""
            raise TokenUnavailable(f"the OAuth token endpoint {relay.oauth_token_url} refused the portal "
                                   f"({exc.error}{description})") from None
        except requests.Timeout:
            raise TokenUnavailable(f"the OAuth token endpoint {relay.oauth_token_url} did not answer within "
                                   f"{self.timeout:g} s") from None
        except (requests.RequestException, ValueError) as exc:
            raise TokenUnavailable(f"the OAuth token endpoint {relay.oauth_token_url} could not be reached "
                                   f"({_without_url(exc)})") from None
        access = token.get("access_token")
        if not access:
            raise TokenUnavailable(f"the OAuth token endpoint {relay.oauth_token_url} answered without a token")
        self._store(access, token.get("expires_in"), token.get("refresh_token"), refresh_token)
        log.info("OAuth token for relay %s fetched (valid %s s)", relay.name, token.get("expires_in", "?"))
        return access

    def _store(self, access: str, expires_in, new_refresh: str | None, old_refresh: str | None) -> None:
        lifetime = int(expires_in or 3600)
        keep = lifetime - EARLY_SECONDS if lifetime > 2 * EARLY_SECONDS else max(1, int(lifetime * 0.8))
        try:
            self.redis.set(self.relay.key("oauth-token"), self.fernet.encrypt(access.encode()), ex=keep)
            if new_refresh and new_refresh != old_refresh:
                self.redis.set(self._rotated_key(), self.fernet.encrypt(new_refresh.encode()))
        except RedisError as exc:
            log.warning("OAuth token for relay %s not shared (Redis: %s)", self.relay.name, exc)

    def _refresh_token(self) -> str | None:
        """The newest refresh token: one the provider rotated to (kept in Redis), else the configured one."""
        if not self.relay.oauth_refresh_token:
            return None
        try:
            stored = self.redis.get(self._rotated_key())
            if stored:
                return self.fernet.decrypt(stored).decode()
        except (RedisError, InvalidToken):
            pass
        return self.relay.oauth_refresh_token

    def _rotated_key(self) -> str:
        """Kept per configured refresh token: an operator who sets a new one is not overruled by Redis."""
        configured = hashlib.sha256((self.relay.oauth_refresh_token or "").encode()).hexdigest()[:16]
        return self.relay.key(f"oauth-refresh-token:{configured}")


def xoauth2_response(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (Google's and Microsoft's documented format)."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"


def _without_url(exc: Exception) -> str:
    """requests' messages repeat the whole URL with its query; the endpoint is named already."""
    text = str(exc)
    return text.split(" with url:")[0] if " with url:" in text else text
