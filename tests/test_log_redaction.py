"""No log line carries a whole attendance token."""
import logging

from portal.log_redaction import RedactTokens, redact

TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdHVkZW50X3Byb2ZpbGVfaWQiOjF9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_redact_hides_tokens_in_urls_and_text():
    line = f'127.0.0.1 - - "GET /attendance?token={TOKEN}&x=1 HTTP/1.1" 200 -'
    cleaned = redact(line)
    assert TOKEN not in cleaned and "[redacted]" in cleaned and "&x=1" in cleaned
    assert TOKEN not in redact(f"payload {TOKEN}")
    assert redact("GET /sessions/3 HTTP/1.1") == "GET /sessions/3 HTTP/1.1"


def test_the_filter_rewrites_formatted_records(app, caplog):
    logger = logging.getLogger("werkzeug")
    caplog.set_level(logging.INFO, logger="werkzeug")
    logger.info('"%s" %s', f"GET /attendance?token={TOKEN} HTTP/1.1", 200)
    assert TOKEN not in caplog.text
    assert "token=eyJhbGciOiJI…[redacted]" in caplog.text or "eyJhbGciOiJI…[redacted]" in caplog.text
    assert sum(isinstance(f, RedactTokens) for f in logger.filters) == 1
