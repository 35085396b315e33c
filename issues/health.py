"""/healthz: is the database answering, is the broker reachable, is the SLA scan running?

503 only when the database is away (the app cannot serve). A broker outage or a stalled scan leaves
the web app working, so it answers 200 with status "degraded" and says which part needs attention.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection
from redis.exceptions import TimeoutError as RedisTimeoutError

from issues.models import Heartbeat
from issues.scan import SCAN_HEARTBEAT

PROBE_TIMEOUT = 1  # seconds, for connecting and for each read


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        last_scan = Heartbeat.objects.filter(name=SCAN_HEARTBEAT).values_list("at", flat=True).first()
    except DatabaseError:
        # Drop the broken connection so the next request opens a fresh one once the database is back.
        connection.close()
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    scan_age = round((timezone.now() - last_scan).total_seconds()) if last_scan else None
    broker = broker_state()
    healthy = broker == "ok" and scan_age is not None and scan_age <= settings.SLA_SCAN_STALE_SECONDS
    return JsonResponse({"status": "ok" if healthy else "degraded", "database": "ok", "broker": broker,
                         "last_sla_scan_age_seconds": scan_age})


def broker_state() -> str:
    """"ok", "unreachable" or "timeout" (the broker took the connection but never answered).

    A fresh connection of our own, never the workers' pool: a probe must not disturb real traffic. It
    tries once, with its own short timeouts, so /healthz answers within about a second whatever the
    broker does: a load balancer's probe must never pin a web worker.
    """
    url = settings.CELERY_BROKER_URL
    try:
        with Connection(url, transport_options=probe_options(url), connect_timeout=PROBE_TIMEOUT) as broker:
            broker.ensure_connection(max_retries=0, timeout=PROBE_TIMEOUT)
    except Exception as error:  # any transport's way of saying no
        return "timeout" if timed_out(error) else "unreachable"
    return "ok"


def probe_options(url: str) -> dict[str, object]:
    if url.startswith("filesystem://"):
        return settings.CELERY_BROKER_TRANSPORT_OPTIONS  # where the folders are
    # Redis: without a read timeout, redis-py waits forever on a server that accepted and went quiet.
    return {"socket_connect_timeout": PROBE_TIMEOUT, "socket_timeout": PROBE_TIMEOUT}


def timed_out(error: BaseException | None) -> bool:
    """kombu wraps redis-py's TimeoutError, which wraps the socket's: look down the chain."""
    while error is not None:
        if isinstance(error, (TimeoutError, RedisTimeoutError)):
            return True
        error = error.__cause__ or error.__context__
    return False
