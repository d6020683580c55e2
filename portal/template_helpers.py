"""Filters and globals the page templates share."""
from flask import Flask, request, url_for

from portal import timefmt

STATUS_STYLES = {"pending": "secondary", "sending": "info", "sent": "success", "failed": "danger",
                 "waiting": "secondary", "queued": "info", "done": "success"}


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.add_template_filter(lambda moment: timefmt.local_datetime(moment) if moment else "", "local_datetime")
    app.add_template_filter(lambda moment: timefmt.local_date(moment) if moment else "", "local_date")
    app.add_template_filter(lambda moment: timefmt.local_time(moment) if moment else "", "local_time")
    app.add_template_filter(lambda status: STATUS_STYLES.get(status, "secondary"), "status_style")
    app.add_template_global(url_with)
    app.add_template_global(lambda: app.config["PORTAL_TIMEZONE"], "portal_timezone")
