"""Keep attendance tokens out of the logs: request lines carry them in `?token=`."""
import logging
import re

JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
QUERY_TOKEN = re.compile(r"(token=)([^&\s\"']{12})[^&\s\"']*")
# Loggers that write request lines (dev server, gunicorn) or may quote them.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "rq.worker", "portal")


def redact(text: str) -> str:
    text = JWT_PATTERN.sub(lambda m: m.group(0)[:12] + "…[redacted]", text)
    return QUERY_TOKEN.sub(r"\1\2…[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install() -> None:
    """Idempotent: on the request loggers and on every handler of the root logger."""
    for target in [logging.getLogger(name) for name in REQUEST_LOGGERS] + logging.getLogger().handlers:
        if not any(isinstance(f, RedactTokens) for f in target.filters):
            target.addFilter(RedactTokens())
