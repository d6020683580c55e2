"""A short name for the device a student confirmed from ("iPhone · Safari"), for the pages.

The raw user agent is kept and exported whole in the CSV; the attendance view shows this
label, which fits a phone's screen. Parsed by ua-parser (the uap-core rules, kept up to
date by that project) rather than by rules of our own.
"""
from functools import lru_cache

from ua_parser import parse

# Device families named as students know them; otherwise the operating system names the device.
NAMED_DEVICES = {"iPhone", "iPad"}
OS_NAMES = {"Mac OS X": "Mac", "Chrome OS": "Chromebook"}


@lru_cache(maxsize=2048)
def device_label(user_agent: str | None) -> str:
    """"iPhone · Safari", "Android · Chrome", "Windows · Edge"; "" for no user agent or one nobody knows
    (the page then says "Unknown device", in its language)."""
    if not user_agent:
        return ""
    result = parse(user_agent)
    device = result.device.family if result.device else None
    system = result.os.family if result.os else None
    browser = result.user_agent.family if result.user_agent else None
    where = device if device in NAMED_DEVICES else OS_NAMES.get(system, system)
    what = _browser_name(browser) if browser and browser != "Other" else None
    label = " · ".join(part for part in (where, what) if part and part != "Other")
    return label


def _browser_name(family: str) -> str:
    """"Mobile Safari" → "Safari", "Chrome Mobile iOS" → "Chrome": the phone is already named."""
    for suffix in (" Mobile iOS", " Mobile WebView", " Mobile"):
        family = family.removesuffix(suffix)
    return family.removeprefix("Mobile ")
