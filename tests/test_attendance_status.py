"""The one status rule: present, late, excused, absent, or not known yet; and the attendance rate."""
from datetime import datetime, timedelta, timezone

import pytest

from portal.models import AttendanceStatus as S
from portal.register.statuses import StatusRule, tally

START = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
END = START + timedelta(hours=1)


def status(rule=StatusRule(None), now=START + timedelta(minutes=30), **fields):
    return rule.status(starts_at=START, ends_at=END, now=now, **fields)


def test_a_confirmation_is_present_and_never_late_without_the_setting():
    assert status(confirmed_at=START + timedelta(minutes=50)) == S.PRESENT


@pytest.mark.parametrize(("after_start", "expected"), [
    (timedelta(minutes=-5), S.PRESENT), (timedelta(minutes=10), S.PRESENT), (timedelta(minutes=10, seconds=1), S.LATE)])
def test_late_after_the_configured_minutes(after_start, expected):
    assert status(StatusRule(late_after_minutes=10), confirmed_at=START + after_start) == expected


def test_nothing_is_unknown_until_the_end_then_absent():
    assert status() is None
    assert status(now=END - timedelta(seconds=1)) is None
    assert status(now=END) == S.ABSENT


def test_a_rejected_confirmation_does_not_count():
    assert status(confirmed_at=START, review="rejected", now=END + timedelta(minutes=1)) == S.ABSENT
    assert status(confirmed_at=START, review="accepted") == S.PRESENT


@pytest.mark.parametrize("mark", list(S))
def test_a_hand_mark_stands_over_everything(mark):
    assert status(confirmed_at=START, mark=mark) == mark
    assert status(now=END + timedelta(days=1), mark=mark) == mark


def test_present_and_late_are_attended_and_excused_is_not_counted():
    assert tally([S.PRESENT, S.LATE, S.ABSENT, S.EXCUSED]) == (2, 3)
    assert tally([S.ABSENT, None]) == (0, 1)
    assert tally([S.EXCUSED, None]) == (0, 0)
    assert tally([]) == (0, 0)


def test_the_setting_is_checked_at_start_up(monkeypatch):
    from portal.config import Config, check_settings
    from portal.exceptions import ConfigurationError
    monkeypatch.setenv("ATTENDANCE_LATE_AFTER_MINUTES", "-1")
    with pytest.raises(ConfigurationError, match="ATTENDANCE_LATE_AFTER_MINUTES"):
        check_settings(Config.from_env())
    monkeypatch.setenv("ATTENDANCE_LATE_AFTER_MINUTES", "ten")
    with pytest.raises(ConfigurationError, match="ATTENDANCE_LATE_AFTER_MINUTES must be a whole number"):
        Config.from_env()
    monkeypatch.setenv("ATTENDANCE_LATE_AFTER_MINUTES", "")
    monkeypatch.setenv("REGISTER_LOW_ATTENDANCE", "120")
    with pytest.raises(ConfigurationError, match="REGISTER_LOW_ATTENDANCE"):
        check_settings(Config.from_env())
