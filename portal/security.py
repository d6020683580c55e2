"""Security headers on every response, cookie flags and HTTPS outside development, trusted
proxies, and who the client is for rate limits."""
import ipaddress
import logging

from flask import Flask, abort, current_app, redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.exceptions import ValidationError

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


def client_network() -> str:
    """The client for rate limits: its IPv4 address, or its IPv6 /64 (which one household
    or phone can rotate through at will). The address is ProxyFix's when TRUSTED_PROXIES is set."""
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def require_https():
    """Production answers only over HTTPS: its cookies are Secure, so over plain HTTP a
    browser never sends them back and every form fails its CSRF check. A plain-HTTP request
    is redirected to PORTAL_BASE_URL (never to the request's own Host header). If a proxy
    says the visitor used HTTPS but is not trusted (TRUSTED_PROXIES unset), redirecting
    would loop, so the page says what to set instead. /healthz answers either way: load
    balancers often check over plain HTTP."""
    if request.is_secure or request.path == "/healthz":
        return None
    config = current_app.config
    if request.headers.get("X-Forwarded-Proto", "").lower() == "https" and not config["TRUSTED_PROXIES"]:
        log.error("a proxy forwarded an HTTPS request but TRUSTED_PROXIES is not set; refusing %s", request.path)
        abort(503, description="This portal is behind a proxy it does not trust yet, so it cannot tell that you "
                               "connected over HTTPS. The operator must set TRUSTED_PROXIES to the number of "
                               "proxies in front of it.")
    target = config["PORTAL_BASE_URL"] + request.full_path.rstrip("?")
    log.warning("plain-HTTP request for %s redirected to HTTPS; the portal must be opened over HTTPS",
                request.path)
    return redirect(target, 308)  # 308 keeps the method


REQUEST_LIMIT = 1024 * 1024
# The pages that take a large file, and how large: a whole university's student CSV (50,000
# rows, 3 to 5 MB) with room to spare. Files over 500 KB are spooled to disk, and Flask's
# MAX_FORM_MEMORY_SIZE keeps other fields small.
LARGE_BODIES = {"admin.import_page": 16 * 1024 * 1024}


def allow_large_bodies() -> None:
    """Raise the limit for the pages that take a file, before anything (the CSRF check) reads
    the body."""
    if request.endpoint in LARGE_BODIES:
        request.max_content_length = max(LARGE_BODIES[request.endpoint], current_app.config["MAX_CONTENT_LENGTH"])


def refuse_nul() -> None:
    """A NUL character in a query or form value is never typed by a person (other control
    characters get a message on their field), and PostgreSQL refuses text that holds one
    (a 500): refuse the request with a 400 before any query sees it. Files are not looked at
    here: the import reads them and names the line."""
    values = list(request.args.values())
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += list(request.form.values())
    if any("\x00" in value for value in values):
        raise ValidationError("The request holds a NUL character, which no field may contain.")


def init_app(app: Flask) -> None:
    if app.config["ENV_NAME"] == "production":
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
        # First of all before_request functions: CSRFProtect's would refuse the POST before.
        app.before_request_funcs.setdefault(None, []).insert(0, require_https)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_HTTPONLY=True)
    # Every request body is refused (413) over MAX_CONTENT_LENGTH before it is read: 1 MB, far
    # over any form; only the student import takes more (see admin/imports.py). Flask's own
    # default is None (no limit), so a setting of None here means "use ours".
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = REQUEST_LIMIT
    app.before_request_funcs.setdefault(None, []).insert(0, allow_large_bodies)
    app.before_request(refuse_nul)
    if app.config["TRUSTED_PROXIES"]:  # only then is X-Forwarded-For the client's address
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin: attendance links never leak to other sites, and Flask-WTF's
        # HTTPS referrer check still works (no-referrer would break it).
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
