"""`GET /metrics` with `Authorization: Bearer <METRICS_TOKEN>`."""
import hmac

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from portal.metrics.numbers import PortalNumbers

bp = Blueprint("metrics", __name__)


@bp.route("/metrics")
def metrics():
    """404 while METRICS_TOKEN is unset (nothing to find), 401 without its bearer token."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return Response("A bearer token is needed: Authorization: Bearer <METRICS_TOKEN>\n", 401,
                        {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalNumbers())
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
