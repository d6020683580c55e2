"""A Flask-Mail connection with what Flask-Mail leaves out: a socket timeout and verified TLS."""
import functools
import os
import smtplib
import ssl

from flask_mail import Connection, Mail


@functools.lru_cache(maxsize=4)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Loading the CA store costs ~20 ms: do it once per process (per SSL_CERT_FILE)."""
    return ssl.create_default_context()


class SafeConnection(Connection):
    """Flask-Mail's connection, with a timeout (a silent server must not hang a job) and
    a verifying TLS context (Flask-Mail calls `starttls()` without one)."""

    def __init__(self, mail: Mail, timeout: float):
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        context = _tls_context(os.environ.get("SSL_CERT_FILE")) if self.mail.use_ssl or self.mail.use_tls else None
        if self.mail.use_ssl:
            host = smtplib.SMTP_SSL(self.mail.server, self.mail.port, timeout=self.timeout, context=context)
        else:
            host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=self.timeout)
        try:
            if self.mail.use_tls:
                host.starttls(context=context)
            if self.mail.username and self.mail.password:
                host.login(self.mail.username, self.mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def close(self) -> None:
        """Say goodbye if the server still listens; never raise."""
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        self.host = None

    def __exit__(self, exc_type, exc_value, tb) -> None:
        self.close()
