"""Security headers on every response, cookie flags outside development, trusted proxies,
and who the client is for rate limits."""
import ipaddress

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

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


def init_app(app: Flask) -> None:
    if app.config["ENV_NAME"] == "production":
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_HTTPONLY=True)
    app.config.setdefault("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
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
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
