"""The peer: django-post_office's `send_queued` delivering N queued emails to the same SMTP sink.

    python -m bench.peer_post_office PORT COUNT THREADS   → prints seconds taken

Runs in its own process (Django configured here, nothing shared with the portal).
Installed only for benchmarks (requirements-bench.txt).
"""
import json
import sys
import tempfile
import time

import django
from django.conf import settings


def main() -> None:
    port, count, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "post_office"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": f"{tempfile.mkdtemp()}/post_office.db"}},
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_TIMEOUT=30,
        POST_OFFICE={"THREADS_PER_PROCESS": threads, "BATCH_SIZE": 5000, "LOG_LEVEL": 0},
        USE_TZ=True, DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.core.management import call_command
    from post_office import mail
    from post_office.models import STATUS, Email

    call_command("migrate", verbosity=0)
    from bench.bench_delivery import HTML as html
    from bench.bench_delivery import TEXT as text
    Email.objects.bulk_create([
        Email(from_email="attendance@example.edu", to=[f"student{n}@example.edu"],
              subject="Attendance Session Created: Benchmarking", message=text, html_message=html,
              status=STATUS.queued, priority=1)
        for n in range(count)
    ])
    started = time.perf_counter()
    sent = 0
    while True:
        done, failed, requeued = mail.send_queued(processes=1)
        sent += done
        if done + failed + requeued == 0:
            break
    print(json.dumps({"seconds": time.perf_counter() - started, "sent": sent}))


if __name__ == "__main__":
    main()
