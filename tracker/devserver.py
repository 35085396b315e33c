"""`make run`: the web server, a Celery worker and beat together; Ctrl-C (or any one exiting) stops all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
PROCESSES = {
    "worker": [os.path.join(BIN, "celery"), "-A", "tracker", "worker", "--loglevel=info", "--concurrency=2"],
    "beat": [os.path.join(BIN, "celery"), "-A", "tracker", "beat", "--loglevel=info"],
    # PORT moves the site when 8000 is taken (tracker/settings.py makes the links in emails follow it).
    "web": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{os.environ.get('PORT') or '8000'}"],
}


def main() -> int:
    children = {name: subprocess.Popen(command) for name, command in PROCESSES.items()}
    stopping = False

    def stop(*_signal) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children.values()):
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
