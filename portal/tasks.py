"""Old names of the RQ jobs, for jobs queued before delivery moved to `portal.delivery`.

A send or retry job already waiting in Redis when this version is deployed still
names `portal.tasks.*`; these aliases let the new workers run it. New jobs use
the names in `portal.delivery.queueing`.
"""
from portal.delivery.jobs import generate_notifications, send_notifications, sweep

__all__ = ["generate_notifications", "send_notifications", "sweep"]
