"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is in settings."""

import logging
import os
import time

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

task_log = logging.getLogger("inloop.task")
_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_started(task_id: str, task, **details) -> None:
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_finished(task_id: str, task, retval=None, state: str | None = None, **details) -> None:
    """One log line per task: name, outcome, duration and what it did."""
    started = _started.pop(task_id, None)
    task_log.info("task", extra={
        "task": task.name, "state": state, "result": retval,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
    })
