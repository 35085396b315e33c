"""Real processes for fault tests: a Redis, a PostgreSQL cluster and the web app on gunicorn, each of
our own, on free ports, so a test can stop and restart them without touching anything else."""

from __future__ import annotations

import glob
import http.cookiejar
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.mailserver import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def wait_until(condition, timeout: float, pause: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(pause)
    return False


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(lambda: _answers(self.port), 10), "redis did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class PrivatePostgres:
    """A throwaway cluster (initdb as the postgres user), so restarting it disturbs no other test."""

    def __init__(self) -> None:
        self.port = free_port()
        # Its own folder outside pytest's private temp tree, which the postgres user cannot enter.
        self.home = Path(tempfile.mkdtemp(prefix="inloop-pg-"))
        self.data = self.home / "pgdata"
        self.log = self.home / "postgres.log"
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        self.bin = Path(found[-1]) if found else None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/inloop"

    def available(self) -> bool:
        return self.bin is not None and os.geteuid() == 0 and shutil.which("runuser") is not None

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=60)

    def create(self) -> None:
        shutil.chown(self.home, "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        "inloop"], check=True, timeout=30)

    def start(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                          "-o", f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


class WebApp:
    """The web app as production runs it: gunicorn with two workers."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "tracker.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
             "--timeout", "30"], cwd=ROOT, env=self.environment, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        assert wait_until(lambda: _answers(self.port), 30), self.log.read_text()[-2000:]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@dataclass
class Answer:
    status: int
    seconds: float
    body: str


class Browser:
    """A person at the web app over real HTTP: cookies, CSRF token, forms."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, path: str, data: dict | None = None, timeout: float = 10) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        if data is not None:
            request.add_header("X-CSRFToken", self.csrf_token())
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Answer(response.status, time.monotonic() - started, response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, time.monotonic() - started, error.read().decode(errors="replace"))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            return Answer(0, time.monotonic() - started, str(error))

    def csrf_token(self) -> str:
        return next((cookie.value for cookie in self.cookies if cookie.name == "csrftoken"), "")

    def log_in(self, username: str, password: str) -> None:
        self.request("/accounts/login/")
        answer = self.request("/accounts/login/", {"username": username, "password": password})
        assert answer.status == 200 and "sessionid" in {cookie.name for cookie in self.cookies}, answer.body[:500]


def give_password(user, password: str, settings) -> None:
    """A password the app's real hashers can check (the suite itself uses a fast test-only hasher)."""
    from tracker import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user.set_password(password)
    user.save(update_fields=["password"])


def _answers(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def app_environment(*, database_url: str, broker_url: str, email_port: int | None, queue: str) -> dict[str, str]:
    """Production settings for processes the test starts, pointed at the test's own services."""
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {key: value for key, value in os.environ.items() if key not in dropped}
    environment.update({
        "DEBUG": "false", "SECRET_KEY": "fault-test-" + "x" * 50, "HTTPS": "false", "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url, "CELERY_QUEUE": queue,
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage", "LOG_LEVEL": "WARNING",
    })
    if email_port is not None:
        environment["EMAIL_URL"] = f"smtp://127.0.0.1:{email_port}"
    return environment


def database_url_of_this_run() -> str:
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


