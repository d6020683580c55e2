"""The shared limits of `portal.delivery.pacing` and the pause, each relay's apart (fakeredis,
which runs their Lua scripts like Redis; the relays themselves are in test_relay_delivery)."""
import time

import fakeredis
import pytest

from portal.delivery import pause
from portal.delivery.pacing import ConnectionSlots, RateLimit, Throttle, parse_rate
from portal.delivery.relays import Relay

CAMPUS = Relay("campus", "smtp.campus.example.edu", 587, username="attendance@campus.example.edu")
CLOUD = Relay("m365", "smtp.office365.com", 587, username="attendance@campus.example.edu")
SECOND_ACCOUNT = Relay("registry", "smtp.campus.example.edu", 587, username="registry@campus.example.edu")


@pytest.fixture
def redis():
    return fakeredis.FakeRedis()


def sent_in_one_second(throttle: Throttle, count: int) -> None:
    for _ in range(count):
        throttle.count_sent()


def test_a_relay_that_says_slow_down_slows_only_itself(redis):
    campus = Throttle(redis, CAMPUS)
    sent_in_one_second(campus, 8)
    assert campus.slow_down() is not None
    assert campus.current_rate() is not None
    for other in (CLOUD, SECOND_ACCOUNT):
        throttle = Throttle(redis, other)
        assert throttle.current_rate() is None
        started = time.monotonic()
        assert all(throttle.wait_turn(5) == 0.0 for _ in range(20))  # no waiting at all
        assert time.monotonic() - started < 0.5


def test_slowing_down_halves_the_pace_the_relay_saw_since_sending_began(redis):
    """8 messages within the first half second, then "slow down": about 4 a second. (The counts
    reach Redis twice a second; they used to be read before this process had written any,
    and divided by five seconds whatever had been sent in them: the pace fell to its floor.)"""
    throttle = Throttle(redis, CAMPUS)
    sent_in_one_second(throttle, 8)
    rate = throttle.slow_down()
    assert 2.5 <= rate <= 4.5


def test_connection_slots_and_rate_windows_are_per_relay(redis):
    campus, cloud = ConnectionSlots(redis, CAMPUS, cap=1, ttl=30), ConnectionSlots(redis, CLOUD, cap=1, ttl=30)
    assert campus.acquire(0) and campus.acquire(0) is None
    assert cloud.acquire(0)  # the campus relay's full cap does not hold the other relay back
    limit = parse_rate("1/minute")
    assert RateLimit(redis, CAMPUS, limit).wait_turn(0)
    assert RateLimit(redis, CAMPUS, limit).wait_turn(0) is None
    assert RateLimit(redis, CLOUD, limit).wait_turn(0)


def test_a_pause_is_per_relay(redis):
    assert pause.pause(redis, CAMPUS, "Mail server refused the login (535 5.7.3)")
    assert pause.is_paused(redis, CAMPUS) and pause.state(redis, CAMPUS).reason.startswith("Mail server refused")
    assert not pause.is_paused(redis, CLOUD) and not pause.is_paused(redis, SECOND_ACCOUNT)
    assert pause.resume(redis, CAMPUS) and not pause.is_paused(redis, CAMPUS)


def test_without_a_relays_file_the_mail_variables_are_one_relay_named_default():
    config = {"MAIL_SERVER": "smtp.campus.example.edu", "MAIL_PORT": 587, "MAIL_USERNAME": None,
              "MAIL_DEFAULT_SENDER": "attendance@campus.example.edu", "MAIL_RATE_LIMIT": "30/minute"}
    relay = Relay.of(config)
    assert (relay.name, relay.server, relay.port, relay.username, relay.rate_limit) == (
        "default", "smtp.campus.example.edu", 587, None, "30/minute")
    assert str(relay) == "smtp.campus.example.edu:587"  # in logs and the audit trail
    assert str(CAMPUS) == "campus (smtp.campus.example.edu:587 (attendance@campus.example.edu))"
    assert len({relay.key("pace") for relay in (CAMPUS, CLOUD, SECOND_ACCOUNT)}) == 3


def test_a_persons_pause_is_not_probed_and_takes_over_the_portals(redis):
    assert pause.pause(redis, CAMPUS, "Mail server refused the login (535)")  # the portal's own
    assert pause.state(redis, CAMPUS).by == pause.BY_THE_PORTAL
    assert pause.pause(redis, CAMPUS, "Relay maintenance", by="admin@example.edu")  # now the admin's
    assert pause.state(redis, CAMPUS).by == "admin@example.edu"
    assert pause.state(redis, CAMPUS).reason == "Relay maintenance"
    assert pause.probe(redis, CAMPUS, interval=1) is None  # never probed, so never lifted by the relay
    assert not pause.pause(redis, CAMPUS, "Again", by="registrar@example.edu")  # a person's stays theirs
    assert pause.state(redis, CAMPUS).by == "admin@example.edu"
