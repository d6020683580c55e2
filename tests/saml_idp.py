"""A SAML 2.0 identity provider for the tests, built from pysaml2 with Debian's xmlsec1: its own
key and certificate, its metadata, and either a web page on loopback (choose who signs in, then the
signed answer is posted back to the portal, as Shibboleth's is) or answers made directly (`answer`).

Variants of the answer for the refusal tests: unsigned, for another audience, expired, tampered."""
import base64
import datetime
import html
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, request
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from werkzeug.serving import make_server


def key_and_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed RSA certificate and its key, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


class IdentityProvider:
    def __init__(self, folder: Path, people: dict[str, dict]):
        """`people`: who can sign in, by user name: their attributes ({"mail": [...], "givenName": [...]})."""
        self.folder, self.people = folder, people
        self.key_file, self.cert_file = key_and_certificate(folder, "idp")
        self.keys = 1
        self.server_http = make_server("127.0.0.1", 0, self._web(), threaded=True)
        self.base = f"http://127.0.0.1:{self.server_http.server_port}"
        self.metadata_file = folder / "idp-metadata.xml"
        self.metadata_file.write_bytes(create_metadata_string(None, config=self._config([]), valid=24))
        self.server: Server | None = None

    def _config(self, metadata_files: list[str], lifetime_minutes: int = 5) -> IdPConfig:
        config = IdPConfig()
        config.load({
            "entityid": f"{self.base}/idp",
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": str(self.key_file), "cert_file": str(self.cert_file),
            "metadata": {"local": metadata_files},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT)]},
                "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}, "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
            }},
        })
        return config

    OTHER_SP = "https://another-portal.example.edu/saml/metadata"

    def trust(self, sp_metadata: str) -> None:
        """Take the portal's metadata (its /saml/metadata) as an administrator would; and another
        service provider's, whose assertions the portal must not accept (the wrong audience)."""
        path, other = self.folder / "sp-metadata.xml", self.folder / "other-sp-metadata.xml"
        path.write_text(sp_metadata)
        other.write_text(re.sub(r'entityID="[^"]+"', f'entityID="{self.OTHER_SP}"', sp_metadata, count=1))
        self.sp_metadata = [str(path), str(other)]
        self.server = Server(config=self._config(self.sp_metadata))

    def new_key(self, published: bool = True) -> None:
        """Sign with a new key and certificate from now on, as at a certificate rollover; `published`:
        in the metadata too (else only the signatures change: a forger's key)."""
        self.keys += 1
        self.key_file, self.cert_file = key_and_certificate(self.folder, f"idp-{self.keys}")
        if published:
            self.metadata_file.write_bytes(create_metadata_string(None, config=self._config([]), valid=24))
        self.server = Server(config=self._config(self.sp_metadata))

    def __enter__(self) -> "IdentityProvider":
        threading.Thread(target=self.server_http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server_http.shutdown()

    # --- answers -------------------------------------------------------------------------------

    def answer(self, sign_in_address: str, user: str, *, signed: bool = True, audience: str | None = None,
               lifetime_minutes: int = 5, tamper_with: tuple[str, str] | None = None) -> tuple[str, str]:
        """The base64 SAMLResponse for `user` to the request in `sign_in_address` (the portal's
        redirect to our sign-in page), and the portal's address it is posted to."""
        query = parse_qs(urlsplit(sign_in_address).query)
        server = self.server if lifetime_minutes == 5 else Server(config=self._config(self.sp_metadata,
                                                                                      lifetime_minutes))
        parsed = server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        request_ = parsed.message
        destination = request_.assertion_consumer_service_url
        response = server.create_authn_response(
            self.people[user], request_.id, destination, audience or request_.issuer.text,
            name_id_policy=request_.name_id_policy, userid=user, sign_assertion=signed, sign_response=False,
            authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": f"{self.base}/idp"})
        xml = str(response)
        if tamper_with:
            xml = xml.replace(*tamper_with)
        return base64.b64encode(xml.encode()).decode(), destination

    def _web(self) -> Flask:
        """The provider's own pages: who signs in, then an auto-posting form back to the portal."""
        app = Flask("saml-idp")

        @app.get("/sso/redirect")
        def sign_in_page():
            address = request.url
            buttons = "".join(f'<button type="submit" name="user" value="{html.escape(name)}">{html.escape(name)}'
                              f"</button>" for name in self.people)
            return (f'<!doctype html><html lang="en"><title>University sign-in</title><h1>University sign-in</h1>'
                    f'<form method="post" action="/sso/answer"><input type="hidden" name="address" '
                    f'value="{html.escape(address)}">{buttons}</form></html>')

        @app.post("/sso/answer")
        def answer_page():
            saml_response, destination = self.answer(request.form["address"], request.form["user"])
            return ('<!doctype html><html lang="en"><title>Signing in…</title>'
                    '<body onload="document.forms[0].submit()">'
                    f'<form method="post" action="{html.escape(destination)}"><input type="hidden" name="SAMLResponse" '
                    f'value="{saml_response}"><button type="submit">Continue</button></form></body></html>')

        return app
