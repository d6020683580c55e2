"""Staff sign-in through the university's OpenID Connect provider (Microsoft Entra ID, Google,
Keycloak, a federation's proxy…), with Authlib.

The authorization code flow with PKCE (S256). Authlib keeps the state, the nonce and the code
verifier in the signed session cookie, checks the state on the way back, and checks the ID
token (its signature against the provider's published keys, the issuer, the audience, the
expiry and the nonce) before any claim is read. One issuer per deployment: the discovery
document's `issuer` must be the ID token's `iss` (so Entra ID's multi-tenant `/common`
endpoint, whose issuer varies by tenant, cannot be used: use the tenant's own address).
The discovery document and the keys are read again once an hour old, so that a key the
provider withdraws stops being trusted (a new key is fetched at once by Authlib, the first time
a token names it). What happens next, who gets in, is `portal.auth.university`'s.
"""
import logging
import time

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from joserfc.errors import JoseError
from requests import RequestException

from portal.exceptions import SignInRefusedError

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10  # the provider's discovery document, keys and token endpoint
UNAVAILABLE = _l("The university's sign-in is not answering. Try again in a moment.")
METADATA_MAX_AGE = 3600  # seconds: the discovery document and the keys are read again after this


def init_app(app: Flask) -> None:
    """The app's client of the provider, when SSO_OIDC_METADATA_URL is set (nothing is fetched yet:
    the discovery document is read at the first sign-in)."""
    if configured(app):
        app.extensions["university_oidc"] = OAuth(app).register(
            "university",
            server_metadata_url=app.config["SSO_OIDC_METADATA_URL"],
            client_id=app.config["SSO_OIDC_CLIENT_ID"],
            client_secret=app.config["SSO_OIDC_CLIENT_SECRET"],
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT_SECONDS},
        )


def configured(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("SSO_OIDC_METADATA_URL"))


def start(redirect_uri: str):
    """The redirect to the provider's sign-in page (state, nonce and PKCE verifier kept in the session)."""
    try:
        return _client().authorize_redirect(redirect_uri)
    except RequestException:
        raise SignInRefusedError(UNAVAILABLE) from None


def finish() -> dict:
    """The ID token's checked claims, on the way back from the provider; SignInRefusedError when
    anything is wrong (the state or the nonce, a refusal at the provider, a token that fails its
    checks, the provider not answering)."""
    try:
        token = _client().authorize_access_token()
    except RequestException:
        raise SignInRefusedError(UNAVAILABLE) from None
    except (OAuthError, JoseError, KeyError, TypeError, ValueError) as exc:
        log.warning("university sign-in refused: %s: %s", type(exc).__name__, str(exc)[:200])
        raise SignInRefusedError(_l("The university sign-in could not be completed: start again from this "
                                    "page.")) from exc
    claims = token.get("userinfo")
    if not claims:
        raise SignInRefusedError(_l("The university's provider sent no ID token: start again from this page."))
    return dict(claims)


def _client():
    """The provider's client, with its discovery document and keys forgotten once METADATA_MAX_AGE
    old (Authlib then reads them again when they are next needed)."""
    client = current_app.extensions["university_oidc"]
    metadata = client.server_metadata
    loaded_at = metadata.get("_loaded_at")
    if loaded_at is not None and time.time() - loaded_at > METADATA_MAX_AGE:
        metadata.pop("jwks", None)
        metadata.pop("_loaded_at", None)
    return client
