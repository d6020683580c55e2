"""Times are stored in UTC and shown in PORTAL_TIMEZONE."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def portal_zone() -> ZoneInfo:
    name = current_app.config["PORTAL_TIMEZONE"] if has_app_context() else "UTC"
    return ZoneInfo(name)


def local(moment: datetime) -> datetime:
    return moment.astimezone(portal_zone())


def local_date(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m-%d")


def local_time(moment: datetime) -> str:
    return local(moment).strftime("%H:%M")


def local_datetime(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M")


def local_timestamp(moment: datetime) -> str:
    """To the second: for an email's tries, which can be a second apart."""
    return local(moment).strftime("%Y-%m-%d %H:%M:%S")
