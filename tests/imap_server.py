"""A real IMAP server on loopback for the bounce mailbox: Debian's Dovecot (dovecot-imapd).

Each `BounceMailboxServer` is a Dovecot of its own in a temporary folder: TLS from the first
byte (imaps) with a certificate from a test CA (trustme), one user with a password in a
passwd-file, or, with `oauth=` a TokenEndpoint, one that signs in with XOAUTH2 and a token
that Dovecot checks at the endpoint's introspection address (Dovecot's oauth2 passdb, as a
university's mail server asks its identity provider). Mail is put in and read back over IMAP
itself (APPEND, SELECT, FETCH), as the server keeps it.

`without_move`: the server does not offer MOVE (an older or smaller IMAP server), so a client
files mail with COPY, a \\Deleted flag and UID EXPUNGE.

`HoldingProxy` stands between the portal and a BounceMailboxServer and holds one command until
the test lets it through: a reading caught mid-batch.

Dovecot refuses to give mail to uid 0: under root the mail belongs to `nobody`.
"""
import asyncio
import imaplib
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import trustme

from tests.smtp_servers import free_port

USER, PASSWORD = "bounces@attendance.example.edu", "imap-s3cret-pass"
MASTER = "tester"  # with XOAUTH2, the test's own sessions sign in as USER*MASTER with PASSWORD


class BounceMailboxServer:
    def __init__(self, oauth=None, without_move: bool = False):
        # A folder of its own that `nobody` can pass through (pytest's are closed to other users).
        self.folder = Path(tempfile.mkdtemp(prefix="portal-imap-"))
        self.folder.chmod(0o711)
        self.oauth, self.port, self.without_move = oauth, free_port(), without_move
        self.ca = trustme.CA()
        self.ca_file = self.folder / "ca.pem"

    # --- the test's view of the mailbox ---------------------------------------------------

    def url(self, user: str = USER, password: str | None = PASSWORD, folder: str = "INBOX") -> str:
        login = user.replace("@", "%40") + (f":{password}" if password else "")
        return f"imaps://{login}@127.0.0.1:{self.port}/{folder}"

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        with self.session() as imap:
            for message in messages:
                status, _ = imap.append(folder, None, None, message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
                assert status == "OK"

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """Every message in the folder, oldest first (an unknown folder: none)."""
        with self.session() as imap:
            status, _ = imap.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _, found = imap.uid("SEARCH", "ALL")
            uids = found[0].split()
            if not uids:
                return []
            _, data = imap.uid("FETCH", b",".join(uids).decode(), "(BODY.PEEK[])")
            return [item[1] for item in data if isinstance(item, tuple)]

    def session(self) -> imaplib.IMAP4_SSL:
        """A session of the test's own, signed in with the password (the OAuth server's too: see start)."""
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.client_context(), timeout=10)
        imap.login(USER if self.oauth is None else f"{USER}*{MASTER}", PASSWORD)
        return _Closing(imap)

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def give_inbox_a_new_uidvalidity(self) -> None:
        """The folder gets a new UIDVALIDITY, as after a restore from a backup (doveadm)."""
        with self.session() as imap:
            imap.select("INBOX")
            current = int(imap.response("UIDVALIDITY")[1][0])
        subprocess.run(["doveadm", "-c", str(self.folder / "dovecot.conf"), "mailbox", "update", "-u", USER,
                        "--uid-validity", str(current + 1000), "INBOX"], check=True, capture_output=True)

    # --- the server -----------------------------------------------------------------------

    def __enter__(self) -> "BounceMailboxServer":
        if shutil.which("dovecot") is None:
            raise RuntimeError("dovecot is not installed: apt-get install dovecot-imapd (.ci/run does)")
        root = self.folder
        for name in ("run", "state", "mail"):
            (root / name).mkdir(parents=True, exist_ok=True)
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        certificate = self.ca.issue_cert("127.0.0.1", "localhost")
        certificate.private_key_pem.write_to_path(str(root / "key.pem"))
        certificate.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
        uid = os.getuid() or 65534
        if os.getuid() == 0:
            os.chown(root / "mail", uid, uid)
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (root / "dovecot.conf").write_text(self._config(uid))
        self.log = root / "dovecot.log"
        self.process = subprocess.Popen(["dovecot", "-F", "-c", str(root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=open(root / "stderr.log", "wb"))
        deadline = time.monotonic() + 15
        while True:
            try:
                with self.session():
                    break
            except (OSError, imaplib.IMAP4.error):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dovecot did not start: " + (root / "stderr.log").read_text()
                                       + (self.log.read_text() if self.log.exists() else "")) from None
                time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _config(self, uid: int) -> str:
        root = self.folder
        if self.oauth is None:
            passdb = f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {root}/passwd\n}}\n"
            mechanisms = "plain login"
        else:
            (root / "oauth2.conf").write_text(
                f"introspection_mode = post\nintrospection_url = {self.oauth.introspection_url}\n"
                "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
            # The test itself reads and writes the mailbox as a master user; the portal only with a token.
            (root / "masters").write_text(f"{MASTER}:{{PLAIN}}{PASSWORD}\n")
            passdb = (f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {root}/masters\n  master = yes\n}}\n"
                      f"passdb {{\n  driver = oauth2\n  args = {root}/oauth2.conf\n}}\n")
            mechanisms = "plain login xoauth2 oauthbearer"
        return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
{"imap_capability = IMAP4rev1 SASL-IR LITERAL+ ENABLE IDLE NAMESPACE UIDPLUS CHILDREN LIST-EXTENDED"
 if self.without_move else ""}
auth_master_user_separator = *
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {uid}
first_valid_uid = {min(uid, 500)}
{passdb}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/mail/%u allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {"root" if os.getuid() == 0 else "$default_internal_user"}
}}
"""


class _Closing:
    """An IMAP session as a context manager that logs out."""

    def __init__(self, imap):
        self.imap = imap

    def __enter__(self):
        return self.imap

    def __exit__(self, *exc):
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


class HoldingProxy:
    """A TLS proxy (the test CA's certificate, so the portal checks it as it would the server's)
    in front of a BounceMailboxServer. The first command the portal sends that contains `hold`
    (say b" UID MOVE ", a report being filed once recorded) waits there until `release` is set;
    `caught` is set when it arrives. Everything else passes as it is."""

    def __init__(self, server: BounceMailboxServer, hold: bytes = b" UID MOVE "):
        self.server, self.hold, self.port = server, hold.upper(), free_port()
        self.caught, self.release = threading.Event(), threading.Event()

    def url(self) -> str:
        return self.server.url().replace(f":{self.server.port}/", f":{self.port}/")

    def __enter__(self) -> "HoldingProxy":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.loop, started = asyncio.new_event_loop(), threading.Event()

        def serve():
            asyncio.set_event_loop(self.loop)
            self.listener = self.loop.run_until_complete(
                asyncio.start_server(self._connected, "127.0.0.1", self.port, ssl=context))
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        assert started.wait(10), "the proxy did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.loop.call_soon_threadsafe(self.listener.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _connected(self, reader, writer) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.server.port, ssl=self.server.client_context(), server_hostname="127.0.0.1")
        await asyncio.gather(self._pipe(reader, upstream_writer, holding=True),
                             self._pipe(upstream_reader, writer, holding=False))

    async def _pipe(self, reader, writer, holding: bool) -> None:
        try:
            while data := await reader.read(65536):
                if holding and not self.caught.is_set() and self.hold in data.upper():
                    self.caught.set()
                    await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
