"""A real OAuth 2.0 token endpoint on loopback, and a relay that signs in with its tokens.

`TokenEndpoint` is Authlib's authorization server in a small Flask app served by werkzeug
on 127.0.0.1: the client-credentials grant (Microsoft 365's app-only sending) and the
refresh-token grant with rotation (the old refresh token dies when a new one is issued).
Tokens live as long as `expires_in`; a client can be revoked (its secret refused, its
tokens dead), or only its tokens.

`XOAuth2Handler` is a `ScriptedHandler` that offers `AUTH XOAUTH2` and checks each bearer
token against the endpoint's tokens, answering a refusal the way Microsoft and Google do:
a 334 with a JSON error, then 535.
"""
import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.smtp import AuthResult
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from tests.smtp_servers import ScriptedHandler, free_port


@dataclass
class Client:
    client_id: str
    client_secret: str
    scope: str
    revoked: bool = False

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope if set((scope or "").split()) <= set(self.scope.split()) else ""

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return not self.revoked and secrets.compare_digest(client_secret or "", self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_post"  # as Microsoft's and Google's endpoints take it

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type in ("client_credentials", "refresh_token")


@dataclass
class Token:
    client_id: str
    access_token: str
    scope: str
    expires_at: float
    refresh_token: str | None = None
    revoked: bool = False

    def check_client(self, client):
        return client.client_id == self.client_id

    def get_scope(self):
        return self.scope

    def is_expired(self):
        return time.time() >= self.expires_at

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return None


class RefreshTokenGrant(grants.RefreshTokenGrant):
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh returns a new refresh token
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]

    def authenticate_refresh_token(self, refresh_token):
        token = self.server.endpoint.by_refresh.get(refresh_token)
        return token if token and not token.revoked else None

    def authenticate_user(self, refresh_token):
        return {"mailbox": "attendance@example.edu"}

    def revoke_old_credential(self, refresh_token):
        refresh_token.revoked = True


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]


@dataclass
class TokenEndpoint:
    expires_in: int = 3600
    port: int = field(default_factory=free_port)
    clients: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)  # access token -> Token
    by_refresh: dict = field(default_factory=dict)  # refresh token -> Token
    requests: list = field(default_factory=list)  # grant type of every token request answered
    # Whose mailbox a valid token opens, for a mail server that asks /introspect (RFC 7662): Dovecot.
    introspection_username: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def _introspect(self):
        """RFC 7662: is the token in the form alive, and whose is it."""
        token = request.form.get("token", "")
        if self.valid(token):
            return jsonify(active=True, username=self.introspection_username)
        return jsonify(active=False)

    def add_client(self, client_id="portal-client", client_secret=None, scope="https://outlook.office365.com/.default"):
        client = Client(client_id, client_secret or secrets.token_urlsafe(24), scope)
        self.clients[client_id] = client
        return client

    def grant_refresh_token(self, client_id: str) -> str:
        """A refresh token as a person's consent would give it (Google's OAuth playground, say)."""
        refresh = secrets.token_urlsafe(32)
        token = Token(client_id, secrets.token_urlsafe(32), self.clients[client_id].scope, 0, refresh)
        self.by_refresh[refresh] = token
        return refresh

    def revoke_tokens(self) -> None:
        for token in self.tokens.values():
            token.revoked = True

    def revoke_client(self, client_id: str) -> None:
        self.clients[client_id].revoked = True
        self.revoke_tokens()

    def valid(self, access_token: str) -> bool:
        token = self.tokens.get(access_token)
        return bool(token and not token.revoked and not token.is_expired())

    def _save_token(self, token: dict, request) -> None:
        saved = Token(request.client.client_id, token["access_token"], token.get("scope", ""),
                      time.time() + token["expires_in"], token.get("refresh_token"))
        self.tokens[saved.access_token] = saved
        if saved.refresh_token:
            self.by_refresh[saved.refresh_token] = saved
        self.requests.append(request.payload.grant_type)

    def __enter__(self) -> "TokenEndpoint":
        app = Flask("token-endpoint")
        app.config.update(OAUTH2_TOKEN_EXPIRES_IN={"client_credentials": self.expires_in,
                                                   "refresh_token": self.expires_in},
                          OAUTH2_REFRESH_TOKEN_GENERATOR=True)
        server = AuthorizationServer(app, query_client=self.clients.get, save_token=self._save_token)
        server.endpoint = self
        server.register_grant(ClientCredentialsGrant)
        server.register_grant(RefreshTokenGrant)
        app.add_url_rule("/token", "token", server.create_token_response, methods=["POST"])
        app.add_url_rule("/introspect", "introspect", self._introspect, methods=["POST"])
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(5)


@dataclass
class XOAuth2Handler(ScriptedHandler):
    """Accepts mail signed in with XOAUTH2 by `mailbox` holding a token `endpoint` says is valid."""

    endpoint: TokenEndpoint | None = None
    mailbox: str = "attendance@example.edu"
    sign_ins: list = field(default_factory=list)  # (user, token, accepted) for every AUTH XOAUTH2

    async def auth_XOAUTH2(self, server, args):
        response = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
        fields = dict(part.split("=", 1) for part in response.decode().split("\x01") if "=" in part)
        user, token = fields.get("user"), fields.get("auth", "").removeprefix("Bearer ")
        accepted = user == self.mailbox and self.endpoint.valid(token)
        self.sign_ins.append((user, token, accepted))
        if accepted:
            return AuthResult(success=True, auth_data=user)
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer", "scope": "https://outlook"}))
        return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
