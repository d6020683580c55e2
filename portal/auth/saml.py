"""Staff sign-in through a SAML 2.0 identity provider (Shibboleth, ADFS, Entra ID, a federation's
proxy such as RAFIKI's or TERNET's), with pysaml2 and Debian's `xmlsec1`.

The portal is a service provider: its metadata is at /saml/metadata (entity ID = that address,
assertions posted to /saml/acs). pysaml2 checks what the provider sends: the assertion's
signature (required) against the provider's certificate from its metadata
(SSO_SAML_IDP_METADATA, a file or an https:// address, read again every hour and after a
signature that fails, for the provider's certificate rollovers), the audience (our entity ID), the
recipient and destination (our /saml/acs), the time window (NotBefore / NotOnOrAfter, a minute
of clock skew allowed) and that it answers a request this portal made. Here, on top: each
request is answered once (its ID is consumed from Redis), and each assertion ID is accepted
once until it expires (a replayed assertion is refused). The email is the attribute named by
SSO_SAML_EMAIL_ATTRIBUTE (by default eduPerson / inetOrgPerson `mail`,
urn:oid:0.9.2342.19200300.100.1.3); who gets in is `portal.auth.university`'s rule.
"""
import base64
import logging
import re
import shutil
import threading
import time
from calendar import timegm

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import IncorrectlySigned
from saml2.sigver import SigverError
from saml2.time_util import str_to_time

from portal.delivery import queueing
from portal.exceptions import SignInRefusedError

log = logging.getLogger(__name__)

MAIL_OID = "urn:oid:0.9.2342.19200300.100.1.3"
REQUEST_SECONDS = 600  # a sign-in started at the provider must come back within ten minutes
REQUEST_KEY, ASSERTION_KEY = "portal:saml:request:", "portal:saml:assertion:"
REFUSED = _l("The university sign-in could not be completed: start again from this page.")
# The provider's metadata is read again after an hour: a certificate it withdraws (a leaked key)
# stops being trusted, and a new one is taken, without restarting the portal.
METADATA_MAX_AGE = 3600
# An answer whose signature fails has the metadata read again at once (a rollover to a new
# certificate), at most once a minute: forged answers cannot make the portal fetch it at will.
REREAD_AFTER_REFUSAL = 60
METADATA_TIMEOUT_SECONDS = 10  # fetching the provider's metadata from its address: never a hung sign-in

_lock = threading.Lock()


def configured(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("SSO_SAML_IDP_METADATA"))


def settings(app: Flask) -> dict:
    """pysaml2's settings for this portal as a service provider."""
    config = app.config
    base = config["PORTAL_BASE_URL"].rstrip("/")
    metadata = config["SSO_SAML_IDP_METADATA"]
    keys = {"key_file": config["SSO_SAML_SP_KEY_FILE"], "cert_file": config["SSO_SAML_SP_CERT_FILE"]}
    return {
        "entityid": f"{base}/saml/metadata",
        "xmlsec_binary": shutil.which("xmlsec1"),
        **keys,
        "encryption_keypairs": [keys],
        "metadata": {"remote": [{"url": metadata}]} if metadata.startswith("https://") else {"local": [metadata]},
        "accepted_time_diff": 60,
        "allow_unknown_attributes": True,
        "http_client_timeout": METADATA_TIMEOUT_SECONDS,
        "service": {"sp": {
            "name": "Attendance portal",
            "endpoints": {"assertion_consumer_service": [(f"{base}/saml/acs", BINDING_HTTP_POST)]},
            "want_assertions_signed": True,
            "want_response_signed": False,
            "allow_unsolicited": False,
            "authn_requests_signed": False,
        }},
    }


def _config(refused: bool = False) -> SPConfig:
    """The provider's metadata (from its file, or fetched from its address) and ours, read at the
    first sign-in and again once METADATA_MAX_AGE old, or, with `refused` (a signature that did not
    check out), when it was not read so for REREAD_AFTER_REFUSAL. When it cannot be read again, the
    copy in hand is kept (the provider's address may be down for a moment) and read again a minute on."""
    app = current_app._get_current_object()
    with _lock:
        held = app.extensions.get("saml_config")  # {"config", "read_at", "reread_at"}
        now = time.monotonic()
        stale = held is None or now - held["read_at"] > METADATA_MAX_AGE
        if refused and held is not None and now - held["reread_at"] > REREAD_AFTER_REFUSAL:
            held["reread_at"], stale = now, True
        if stale:
            config = SPConfig()
            try:
                config.load(settings(app))
            except Exception as exc:
                if held is None:
                    raise
                log.warning("the SAML provider's metadata could not be read again, the copy read before stays "
                            "in use: %s: %s", type(exc).__name__, str(exc)[:200])
                held["read_at"] = now - METADATA_MAX_AGE + REREAD_AFTER_REFUSAL  # tried again in a minute
                return held["config"]
            held = app.extensions["saml_config"] = {
                "config": config, "read_at": now, "reread_at": held["reread_at"] if held else float("-inf")}
        return held["config"]


def metadata() -> bytes:
    return create_metadata_string(None, config=_config(), valid=24 * 7)


def start(next_path: str | None) -> str:
    """The address of the provider's sign-in page, with our request; the request's ID is kept
    (in Redis: the provider's answer comes back as a cross-site POST, without our cookie)."""
    try:
        client = Saml2Client(config=_config())
        request_id, info = client.prepare_for_authenticate(binding=BINDING_HTTP_REDIRECT)
    except Exception as exc:  # the metadata could not be read or fetched
        log.warning("SAML sign-in could not start: %s: %s", type(exc).__name__, str(exc)[:200])
        raise SignInRefusedError(_l("The university's sign-in is not answering. Try again in a moment.")) from None
    queueing.get_redis().set(REQUEST_KEY + request_id, next_path or "", ex=REQUEST_SECONDS)
    return dict(info["headers"])["Location"]


def finish(saml_response: str | None) -> tuple[dict, str | None]:
    """The checked claims of the provider's answer, and where the person was going;
    SignInRefusedError for anything wrong (recorded in the log with its reason)."""
    redis = queueing.get_redis()
    request_id = _in_response_to(saml_response)
    next_path = redis.getdel(REQUEST_KEY + request_id) if request_id else None
    if next_path is None:
        log.warning("SAML answer refused: it answers no request of ours waiting (unsolicited, replayed or late)")
        raise SignInRefusedError(REFUSED)
    outstanding = {request_id: next_path.decode() or "/"}
    try:
        config = _config()
        try:
            answer = _parsed(config, saml_response, outstanding)
        except (SigverError, IncorrectlySigned):  # perhaps signed with a certificate new since the metadata was read
            reread = _config(refused=True)
            if reread is config:
                raise
            answer = _parsed(reread, saml_response, outstanding)
    except Exception as exc:  # pysaml2 raises a class per check (signature, audience, time, …)
        log.warning("SAML answer refused: %s: %s", type(exc).__name__, str(exc)[:200])
        raise SignInRefusedError(REFUSED) from None
    assertion = answer.assertion
    if not redis.set(ASSERTION_KEY + assertion.id, 1, nx=True, ex=_seconds_left(assertion)):
        log.warning("SAML answer refused: assertion %s was used before", assertion.id)
        raise SignInRefusedError(REFUSED)
    return _claims(answer), next_path.decode() or None


def _parsed(config: SPConfig, saml_response: str | None, outstanding: dict):
    answer = Saml2Client(config=config).parse_authn_request_response(saml_response, BINDING_HTTP_POST,
                                                                     outstanding=outstanding)
    if answer is None or answer.assertion is None:
        raise ValueError("no assertion")
    return answer


def _in_response_to(saml_response: str | None) -> str | None:
    try:
        xml = base64.b64decode(saml_response or "", validate=False)[:20_000].decode("utf-8", "replace")
    except ValueError:
        return None
    found = re.search(r'<(?:\w+:)?Response\b[^>]*\bInResponseTo="([A-Za-z0-9_.-]{1,100})"', xml)
    return found.group(1) if found else None


def _seconds_left(assertion) -> int:
    """How long the assertion is valid: remembered that long (at least a minute, at most a day)."""
    ends = assertion.conditions.not_on_or_after if assertion.conditions is not None else None
    left = timegm(str_to_time(ends)) - time.time() if ends else 3600
    return int(min(max(left, 0) + 120, 24 * 3600))


def _claims(answer) -> dict:
    """The email (SSO_SAML_EMAIL_ATTRIBUTE) and names, as the OpenID Connect claims are read: the
    university's own directory vouches for the email."""
    wanted = current_app.config["SSO_SAML_EMAIL_ATTRIBUTE"]
    values: dict[str, list[str]] = {}
    for statement in answer.assertion.attribute_statement:
        for attribute in statement.attribute:
            texts = [value.text.strip() for value in attribute.attribute_value if value.text]
            for key in (attribute.name, attribute.friendly_name):
                if key:
                    values.setdefault(key, texts)
    identity = answer.get_identity() or {}
    email = (values.get(wanted) or identity.get(wanted) or (identity.get("mail") if wanted == MAIL_OID else None)
             or [""])[0]
    first = (values.get("urn:oid:2.5.4.42") or identity.get("givenName") or [""])[0]
    last = (values.get("urn:oid:2.5.4.4") or identity.get("sn") or [""])[0]
    return {"email": email, "email_verified": bool(email), "given_name": first, "family_name": last,
            "sub": str(answer.name_id.text if answer.name_id is not None else "")}
