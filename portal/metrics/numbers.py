"""What `/metrics` reports, read when Prometheus asks (a collector, not counters kept in memory):
numbers the database holds are counted there, so they are right however many web processes and
workers there are; the few it does not hold (refusals, pauses) are counters in Redis
(metrics.counters). Each scrape is a handful of grouped queries.

    portal_emails{status,relay}                     emails by status, and the relay of their latest try
    portal_relay_replies_total{relay,outcome}       every try, by the class of the relay's answer
    portal_bounces_total{kind}                      bounce reports recorded: permanent, temporary
    portal_addresses_bouncing                       students whose current address bounces
    portal_relay_throttles_total{relay}             "slow down" answers
    portal_relay_paused{relay}                      1 while the relay is paused
    portal_relay_pauses_total{relay}                times it was paused (by the portal or a person)
    portal_queue_jobs{queue}                        jobs waiting on each RQ queue
    portal_oldest_waiting_email_age_seconds         how long the oldest pending email has waited
    portal_workers                                  workers seen by the queue
    portal_confirmations_total{outcome}             recorded, uncertain (flagged), and each refusal
    portal_queue_reachable                          0 when Redis did not answer (its numbers are then left out)
"""
from flask import current_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from redis.exceptions import RedisError
from rq import Worker

from portal.bounces.reading import OUTCOMES
from portal.database import utcnow
from portal.delivery import pause, queueing, relays
from portal.delivery.smtp import Outcome
from portal.metrics import counters
from portal.models import NotificationStatus
from portal.repositories import BounceRepository
from portal.repositories.metrics_repository import MetricsRepository

WAITING = (NotificationStatus.PENDING, NotificationStatus.SENDING)
BOUNCE_KINDS = {OUTCOMES[kind]: kind for kind in OUTCOMES}  # history outcome -> the report's kind


class PortalNumbers:
    """A prometheus_client collector: `collect` is called once per scrape."""

    def collect(self):
        yield from self._emails()
        yield from self._replies()
        yield self._oldest_waiting()
        yield self._recorded_confirmations()
        try:
            redis = current_app.extensions["redis"]
            queue_families = list(self._queue(redis))
        except RedisError:
            yield GaugeMetricFamily("portal_queue_reachable", "1 when the queue (Redis) answered this scrape", 0)
            return
        yield GaugeMetricFamily("portal_queue_reachable", "1 when the queue (Redis) answered this scrape", 1)
        yield from queue_families

    @staticmethod
    def _emails():
        family = GaugeMetricFamily("portal_emails", "Emails by status, and the relay of their latest try",
                                   labels=["status", "relay"])
        for status, relay, count in MetricsRepository().emails_by_status_and_relay():
            family.add_metric([status, relay or ""], count)
        yield family

    @staticmethod
    def _replies():
        replies = CounterMetricFamily("portal_relay_replies", "Tries, by the class of the relay's answer",
                                      labels=["relay", "outcome"])
        bounces = {kind: 0 for kind in BOUNCE_KINDS.values()}
        throttles = CounterMetricFamily("portal_relay_throttles", "The relay's 'slow down' answers",
                                        labels=["relay"])
        for relay, outcome, count in MetricsRepository().replies_by_relay_and_outcome():
            if outcome in BOUNCE_KINDS:  # a report that came back later, not a reply of the relay
                bounces[BOUNCE_KINDS[outcome]] += count
                continue
            replies.add_metric([relay or "", outcome], count)
            if outcome == Outcome.THROTTLED:
                throttles.add_metric([relay or ""], count)
        yield replies
        yield throttles
        family = CounterMetricFamily("portal_bounces", "Bounce reports recorded from the bounce mailbox, by kind",
                                     labels=["kind"])
        for kind, count in bounces.items():
            family.add_metric([kind], count)
        yield family
        yield GaugeMetricFamily("portal_addresses_bouncing", "Students whose current address is reported "
                                "undeliverable", BounceRepository().count_bouncing())

    @staticmethod
    def _oldest_waiting():
        oldest = MetricsRepository().oldest_created(WAITING)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        return GaugeMetricFamily("portal_oldest_waiting_email_age_seconds",
                                 "How long the oldest pending email has waited (0: none waits)", max(age, 0.0))

    @staticmethod
    def _recorded_confirmations():
        family = CounterMetricFamily("portal_confirmations", "Confirmations through the link, by outcome",
                                     labels=["outcome"])
        rows = MetricsRepository().confirmations_by_uncertainty()
        family.add_metric(["recorded"], rows.get(False, 0))
        family.add_metric(["uncertain"], rows.get(True, 0))
        for reason, count in sorted(counters.read(counters.REFUSED).items()):
            family.add_metric([reason], count)
        return family

    @staticmethod
    def _queue(redis):
        paused = GaugeMetricFamily("portal_relay_paused", "1 while the relay is paused", labels=["relay"])
        pauses = CounterMetricFamily("portal_relay_pauses", "Times the relay was paused", labels=["relay"])
        counted = counters.read(counters.PAUSES, redis)
        for relay in relays.configured():
            paused.add_metric([relay.name], 1 if pause.state(redis, relay) else 0)
            pauses.add_metric([relay.name], counted.get(relay.name, 0))
        yield paused
        yield pauses
        jobs = GaugeMetricFamily("portal_queue_jobs", "Jobs waiting on each queue", labels=["queue"])
        for name, queue in current_app.extensions["rq_queues"].items():
            jobs.add_metric([name], queue.count)
        yield jobs
        yield GaugeMetricFamily("portal_workers", "Workers the queue has seen lately",
                                len(Worker.all(connection=queueing.get_redis())))
