"""Times are stored in UTC and shown in PORTAL_TIMEZONE.

Clock changes: a wall-clock time skipped when the clocks go forward does not exist and
is refused where it is typed (`nonexistent`); one that happens twice when they go back
means its first occurrence (Python's fold=0), and is shown with its UTC offset.
"""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app, has_app_context
from flask_babel import get_locale

from portal import languages
from portal.languages import N_


def portal_zone() -> ZoneInfo:
    name = current_app.config["PORTAL_TIMEZONE"] if has_app_context() else "UTC"
    return ZoneInfo(name)


def local(moment: datetime) -> datetime:
    return moment.astimezone(portal_zone())


def local_date(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m-%d")


def local_time(moment: datetime) -> str:
    here = local(moment)
    return here.strftime("%H:%M") + _offset_if_ambiguous(here)


def local_datetime(moment: datetime) -> str:
    here = local(moment)
    return here.strftime("%Y-%m-%d %H:%M") + _offset_if_ambiguous(here)


def nonexistent(moment: datetime) -> bool:
    """A local time the clocks skip (01:30 in London on the day they go forward)."""
    there_and_back = moment.astimezone(timezone.utc).astimezone(moment.tzinfo)
    return there_and_back.replace(tzinfo=None) != moment.replace(tzinfo=None)


def ambiguous(moment: datetime) -> bool:
    """A local time that happens twice (01:30 in London on the day the clocks go back)."""
    return moment.replace(fold=1).utcoffset() != moment.replace(fold=0).utcoffset() and not nonexistent(moment)


def _offset_if_ambiguous(here: datetime) -> str:
    if not ambiguous(here):
        return ""
    offset = here.strftime("%z")  # +0100
    return f" (UTC{offset[:3]}:{offset[3:]})"


def zone_name(here: datetime) -> str:
    """The zone's abbreviation at that moment ("EAT", "GMT", "BST"), or its offset where the
    zone has none ("UTC+03:00"). It also tells the two 01:30s of a clock-change night apart."""
    name = here.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = here.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def zoned_time(moment: datetime) -> str:
    """For students and emails, who may be anywhere: "11:00 EAT"."""
    here = local(moment)
    return f"{here:%H:%M} {zone_name(here)}"


def email_date(moment: datetime, language: str) -> str:
    """A day in an email, for a reader of `language`: the seed's form in English ("2026-11-26");
    in any other language its own long form, by Babel ("Alhamisi, 26 Novemba 2026", "jeudi 26
    novembre 2026"), which no reader mistakes for another day."""
    day = local(moment).date()
    return day.isoformat() if language == "en" else format_date(day, "full", locale=language)


# TRANSLATORS: a day and a time of day, such as "2026-11-26 11:15 EAT"; keep {date} and {time}.
MOMENT = N_("{date} {time}")


def email_moment(moment: datetime, language: str) -> str:
    """A day and time in an email ("2026-11-26 11:15 EAT"; "jeudi 26 novembre 2026 à 11:15 EAT"):
    the time of day in 24 hours everywhere, with the zone, as students may be anywhere."""
    pattern = languages.catalogue(language).ugettext(MOMENT)
    return pattern.format(date=email_date(moment, language), time=zoned_time(moment))


def day_name(moment: datetime) -> str:
    """"Thu 26 Nov" ("jeu. 26 nov.", "Alhamisi 26 Nov"): the day a student recognises (the year is
    this one, or next week's), in the page's language."""
    return format_date(local(moment).date(), "EEE d MMM", locale=get_locale() or "en")


def local_timestamp(moment: datetime) -> str:
    """To the second: for an email's tries, which can be a second apart."""
    return local(moment).strftime("%Y-%m-%d %H:%M:%S")


def local_day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The moments that start day `first` and end day `last` in the portal's zone (either may be
    None), for a filter by local dates."""
    zone = portal_zone()
    start = datetime.combine(first, time(0), zone) if first else None
    end = datetime.combine(last + timedelta(days=1), time(0), zone) if last else None
    return start, end
