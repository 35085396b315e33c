"""A real IMAP server for tests: a private Debian dovecot on 127.0.0.1, with its own configuration in a
temporary folder, speaking plain IMAP, STARTTLS and IMAPS (with a self-signed certificate for 127.0.0.1).

One server serves the whole session; each test gets a mailbox of its own by logging in as a new user,
which costs a line in the password file instead of a server start.
"""

from __future__ import annotations

import base64
import ctypes
import imaplib
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.mailserver import free_port

DOVECOT = Path("/usr/sbin/dovecot")
HOST = "127.0.0.1"

CONFIG = """\
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered at once, however many tests try one on purpose: no delay, no penalty.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
# imap-login refuses to run as root; the dovecot user's uid is below the default first_valid_uid.
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 100
mail_location = maildir:{root}/mail/%u
# Test mail is thrown away: no need to wait for the disk on every APPEND.
mail_fsync = never
{ssl}
{capability}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
  }}
}}
passdb {{
  driver = passwd-file
  # One file per user: a new file is read at once, while an edited one only after a second.
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
"""


@dataclass(frozen=True)
class Stored:
    """One message as the server holds it."""

    uid: int
    message_id: str
    flags: frozenset[str]


class ImapServer:
    """start(), stop(), and one mailbox at a time: `url` logs in to it, `append` fills it, `messages`
    shows what a folder holds and how it is flagged. `new_mailbox()` moves on to an empty one."""

    def __init__(self, *, capability: str = "") -> None:
        # `capability` replaces what the server announces after login (e.g. to hide MOVE).
        self.host = HOST
        self.port = free_port()
        self.tls_port = free_port()
        self.capability = capability
        self.root = Path(tempfile.mkdtemp(prefix="inloop-imap-"))
        self.certificate: Path | None = None  # trust it through SSL_CERT_FILE to speak TLS to the server
        self.process: subprocess.Popen | None = None
        self.user, self.password = "support", "secret"
        self._users = itertools.count(1)

    # -- the server --------------------------------------------------------------------------------
    def start(self) -> None:
        (self.root / "mail").mkdir(exist_ok=True)
        (self.root / "users").mkdir(exist_ok=True)
        self.root.chmod(0o755)  # dovecot's own users must reach the mail folder below it
        shutil.chown(self.root / "mail", "dovecot", "dovecot")
        self._write_user(self.user, self.password)
        config = self.root / "dovecot.conf"
        config.write_text(CONFIG.format(host=self.host, port=self.port, tls_port=self.tls_port, root=self.root,
                                        ssl=self._ssl_settings(),
                                        capability=f"imap_capability = {self.capability}" if self.capability else ""))
        # -F keeps the master in the foreground, so stopping it is one signal to a process we own; and
        # if the test run itself is killed, the kernel stops dovecot too instead of leaving it behind.
        self.process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(config)], preexec_fn=_die_with_parent,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_until_it_answers()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def _ssl_settings(self) -> str:
        openssl = shutil.which("openssl")
        if openssl is None:
            return "ssl = no"
        self.certificate, key = self.root / "cert.pem", self.root / "key.pem"
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", f"/CN={self.host}",
                        "-addext", f"subjectAltName=IP:{self.host}",
                        "-keyout", str(key), "-out", str(self.certificate)],
                       check=True, capture_output=True)
        return f"ssl = yes\nssl_cert = <{self.certificate}\nssl_key = <{key}"

    def _wait_until_it_answers(self, within: float = 10) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()} {self.log()}")
            try:
                imaplib.IMAP4(self.host, self.port, timeout=1).logout()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"dovecot did not answer within {within} s: {self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    # -- the mailbox -------------------------------------------------------------------------------
    def new_mailbox(self, password: str = "secret") -> None:
        """Log in as a new user from now on: an empty INBOX, nothing left over from an earlier test."""
        self.user, self.password = f"support{next(self._users)}", password
        self._write_user(self.user, password)

    def _write_user(self, user: str, password: str) -> None:
        (self.root / "users" / user).write_text(f"{user}:{{PLAIN}}{password}\n", encoding="utf-8")

    def url_for(self, folder: str = "INBOX", *, scheme: str = "imap", password: str | None = None,
                **query: str) -> str:
        port = self.tls_port if scheme == "imaps" else self.port
        secret = quote(self.password if password is None else password, safe="")
        params = "&".join(f"{name}={quote(value, safe='')}" for name, value in query.items())
        return (f"{scheme}://{quote(self.user, safe='')}:{secret}@{self.host}:{port}/{quote(folder, safe='')}"
                + (f"?{params}" if params else ""))

    @property
    def url(self) -> str:
        return self.url_for()

    @contextmanager
    def _session(self) -> Iterator[imaplib.IMAP4]:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            # AUTHENTICATE PLAIN carries any UTF-8 password; imaplib's LOGIN only ASCII ones.
            credentials = f"\0{self.user}\0{self.password}".encode()
            client.authenticate("PLAIN", lambda _: credentials)
            yield client
        finally:
            client.logout()

    def append(self, raw: bytes, flags: Iterable[str] = (), folder: str = "INBOX") -> None:
        self.append_many([raw], flags, folder)

    def append_many(self, raws: Iterable[bytes], flags: Iterable[str] = (), folder: str = "INBOX") -> int:
        """Put messages in over one connection, in order: the first appended is the oldest."""
        flag_list = f"({' '.join(flags)})" if flags else None
        count = 0
        with self._session() as client:
            for raw in raws:
                status, data = client.append(folder, flag_list, None, raw)
                assert status == "OK", data
                count += 1
        return count

    def create_folder(self, folder: str) -> None:
        with self._session() as client:
            status, data = client.create(_quoted(folder))
            assert status == "OK", data

    def folders(self) -> list[str]:
        with self._session() as client:
            status, data = client.list()
        return [_quoted_name(line) for line in data if line]

    def messages(self, folder: str = "INBOX") -> list[Stored]:
        """What `folder` holds, oldest first, with each message's Message-ID and flags."""
        with self._session() as client:
            status, data = client.select(_quoted(folder), readonly=True)
            assert status == "OK", data
            status, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        found = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            flags = frozenset(flag.decode() for flag in imaplib.ParseFlags(item[0]))
            message_id = (message_from_bytes(item[1])["Message-ID"] or "").strip()
            found.append(Stored(uid=uid, message_id=message_id, flags=flags - {"\\Recent"}))
        return sorted(found, key=lambda stored: stored.uid)


def _die_with_parent() -> None:
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _quoted(folder: str) -> str:
    name = modified_utf7(folder)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted_name(line: bytes) -> str:
    # b'(\\HasNoChildren) "." "Processed"' -> Processed
    return from_modified_utf7(line.decode().rsplit(" ", 1)[-1].strip('"'))


def modified_utf7(name: str) -> str:
    """IMAP folder names are modified UTF-7 (RFC 3501 5.1.3): written here again, independently of the
    library under test, so a wrong encoding there cannot hide behind the same mistake here."""
    encoded, run = [], []

    def flush() -> None:
        if run:
            chunk = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=")
            encoded.append("&" + chunk.replace("/", ",") + "-")
            run.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(encoded)


def from_modified_utf7(name: str) -> str:
    def decode(match: re.Match) -> str:
        chunk = match.group(1).replace(",", "/")
        return base64.b64decode(chunk + "=" * (-len(chunk) % 4)).decode("utf-16-be") if chunk else "&"

    return re.sub(r"&([A-Za-z0-9+,]*)-", decode, name)


def message(n: int, *, sender: str = "grace@acme.example.com", body: str = "") -> bytes:
    """A small, well-formed customer reply with a unique Message-ID."""
    return (f"From: Grace Hopper <{sender}>\r\nTo: support@inloop.example.com\r\n"
            f"Subject: Re: [ACME-{n}] Invoices export times out\r\nMessage-ID: <reply-{n}@acme.example.com>\r\n"
            f"Date: Mon, 02 Nov 2026 09:00:00 +0900\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body or f'Thanks, reply number {n}.'}\r\n").encode()


def skip_without_dovecot() -> None:
    if not DOVECOT.exists():
        pytest.skip(f"needs Debian's dovecot-imapd ({DOVECOT}): apt-get install -y dovecot-imapd")
    if os.geteuid() != 0:
        pytest.skip("needs root to start a private dovecot (it drops to the dovecot user itself)")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[ImapServer]:
    skip_without_dovecot()
    server = ImapServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap_server(dovecot: ImapServer) -> ImapServer:
    """The session's dovecot, logged in to a fresh, empty mailbox for this test."""
    dovecot.new_mailbox()
    return dovecot
