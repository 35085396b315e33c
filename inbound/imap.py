"""The IMAP door: poll a mailbox, hand each new message to the pipeline, and mark it only once stored.

The order is the promise: `store(raw)` commits the message to the database, and only after it returns
do we mark the message on the server. A crash in between means the next poll fetches it again, which is
harmless because the pipeline stores a Message-ID once. A message whose store fails stays unmarked and
is tried again at the next poll; the others go on.

Which messages are new? Not "UNSEEN": a person reading the shared support mailbox in a mail client marks
a reply \\Seen before we poll, and an UNSEEN poll would then skip that customer's reply for ever. We
search for messages without our own keyword, $Inloop, which nobody but us sets; we add \\Seen as well
so people see in their client what the tracker has taken in. Servers that do not keep custom keywords
(PERMANENTFLAGS without \\*) need a processed folder instead: `?processed=Folder` moves each stored
message there, and then everything still in the folder is new.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from imap_tools import (
    BaseMailBox,
    MailBox,
    MailBoxStartTls,
    MailBoxUnencrypted,
    MailMessage,
)
from imap_tools.errors import ImapToolsError
from imap_tools.utils import encode_folder

logger = logging.getLogger(__name__)

KEYWORD = "$Inloop"
DEFAULT_PORTS = {"imaps": 993, "imap+starttls": 143, "imap": 143}


class ImapError(Exception):
    """The mailbox could not be read: unreachable, silent, refused the login, or refused a command."""


@dataclass(frozen=True)
class ImapUrl:
    scheme: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)  # a URL is logged and shown in errors; its password never is
    folder: str = "INBOX"
    processed: str | None = None

    def __str__(self) -> str:
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


@dataclass(frozen=True)
class FetchResult:
    fetched: int = 0
    stored: int = 0
    failed: int = 0


def parse_url(url: str) -> ImapUrl:
    """`imaps://user:pass@host[:port]/FOLDER[?processed=Folder]`; also `imap+starttls://` and, for
    tests and a server on the same machine, plain `imap://`. User, password and folders are
    percent-decoded; the folder defaults to INBOX."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"IMAP URL: unknown scheme {scheme!r}; use imaps://, imap+starttls:// or imap://")
    try:
        port = DEFAULT_PORTS[scheme] if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 0 < port < 65536 or parts.fragment:
        raise ValueError("IMAP URL: cannot read the host and port; percent-encode characters such as "
                         "@ : / ? # % in the user, the password and the folder")
    if not parts.hostname:
        raise ValueError("IMAP URL: no host")
    if not parts.username or not parts.password:
        raise ValueError("IMAP URL: give the user and the password, as imaps://user:password@host/INBOX")
    processed = None
    for option in filter(None, parts.query.split("&")):
        # Decoded like the user and the password (a "+" stays a "+"), not as an HTML form.
        name, _, value = option.partition("=")
        if name != "processed":
            raise ValueError(f"IMAP URL: unknown option {unquote(name)!r}; the only option is ?processed=Folder")
        processed = unquote(value)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    if processed == "" or processed == folder:
        raise ValueError("IMAP URL: ?processed= needs a folder other than the one we read")
    return ImapUrl(scheme=scheme, host=parts.hostname, port=port, user=unquote(parts.username),
                   password=unquote(parts.password), folder=folder, processed=processed)


def fetch_new(*, url: str, store: Callable[[bytes], object], limit: int = 500, timeout: float = 30) -> FetchResult:
    """Store up to `limit` new messages, oldest first, and mark each one after its store returned.
    Raises ImapError when the server cannot be reached, is silent for `timeout` seconds, or refuses."""
    target = parse_url(url)
    fetched = stored = failed = 0
    with _session(target, timeout) as mailbox:
        criteria, flags = _plan(mailbox, target)
        for uid, raw in _oldest_first(mailbox, criteria, limit):
            fetched += 1
            try:
                store(raw)
            except Exception:
                # Left unmarked, it comes back at the next poll; one bad message never stops the rest.
                logger.exception("Storing IMAP message %s from %s failed; it stays for the next poll", uid, target)
                failed += 1
                continue
            _mark_processed(mailbox, uid, flags, target.processed)
            stored += 1
    return FetchResult(fetched=fetched, stored=stored, failed=failed)


def _plan(mailbox: BaseMailBox, target: ImapUrl) -> tuple[str, tuple[str, ...]]:
    """What to search for, and which flags mark a stored message."""
    keywords = keeps_keywords(mailbox.client.response("PERMANENTFLAGS")[1])
    if target.processed is None:
        if not keywords:
            raise ImapError(f"{target}: the server does not keep our {KEYWORD} keyword; "
                            "name a folder for processed mail with ?processed=Folder")
        return f"UNKEYWORD {KEYWORD}", ("\\Seen", KEYWORD)
    _ensure_folder(mailbox, target.processed)
    # With a processed folder the folder is a queue: whatever is still in it is new, even a message
    # we flagged just before a crash kept us from moving it.
    return "UNDELETED", ("\\Seen", KEYWORD) if keywords else ("\\Seen",)


@contextmanager
def _session(target: ImapUrl, timeout: float) -> Iterator[BaseMailBox]:
    """Connected, logged in, `target.folder` selected; every server failure becomes an ImapError that
    says what we were doing. The timeout bounds the connect and every read: a silent server cannot
    hang a poll."""
    mailbox, step = None, "connecting"
    try:
        mailbox = _connect(target, timeout)
        step = "logging in"
        _login(mailbox, target)
        step = f"opening the folder {target.folder!r}"
        mailbox.folder.set(target.folder)
        step = "reading mail"
        yield mailbox
        mailbox.logout()
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as error:
        raise ImapError(f"{target}: {step}: {_describe(error, timeout)}") from error
    finally:
        if mailbox is not None and mailbox.client.state != "LOGOUT":
            with suppress(OSError):
                mailbox.client.shutdown()  # no polite LOGOUT after a failure: a silent server would stall it


def _connect(target: ImapUrl, timeout: float) -> BaseMailBox:
    # imaplib's own default TLS context verifies no certificate: always pass a verifying one.
    context = ssl.create_default_context()
    if target.scheme == "imaps":
        mailbox = MailBox(target.host, target.port, timeout=timeout, ssl_context=context)
    elif target.scheme == "imap+starttls":
        mailbox = MailBoxStartTls(target.host, target.port, timeout=timeout, ssl_context=context)
    else:
        mailbox = MailBoxUnencrypted(target.host, target.port, timeout=timeout)
    mailbox.email_message_class = _RawMessage
    return mailbox


def _login(mailbox: BaseMailBox, target: ImapUrl) -> None:
    if (target.user + target.password).isascii():
        mailbox.login(target.user, target.password, initial_folder=None)
    else:
        # LOGIN takes ASCII only; AUTHENTICATE PLAIN carries UTF-8.
        mailbox.login_utf8(target.user, target.password, initial_folder=None)
    # imaplib keeps the capabilities announced before login, which hide MOVE on many servers.
    status, data = mailbox.client.capability()
    mailbox.client.capabilities = tuple(data[-1].decode().upper().split())


def _describe(error: Exception, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"the server did not answer within {timeout:g} s"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error})"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, imaplib.IMAP4.abort) and "EOF" in str(error):
        return "the server closed the connection"
    return str(error) or type(error).__name__


def keeps_keywords(permanent_flags: list[bytes | None]) -> bool:
    """Whether our keyword sticks, from the PERMANENTFLAGS the server sent when the folder was opened.
    RFC 3501: `\\*` allows new keywords; no PERMANENTFLAGS at all means every flag is kept."""
    sent = [item for item in permanent_flags if item is not None]
    if not sent:
        return True
    flags = b" ".join(sent).strip(b"()").lower().split()
    return b"\\*" in flags or KEYWORD.lower().encode() in flags


def _ensure_folder(mailbox: BaseMailBox, folder: str) -> None:
    if mailbox.folder.exists(folder):
        return
    try:
        mailbox.folder.create(folder)
    except ImapToolsError:
        if not mailbox.folder.exists(folder):  # else another poll created it a moment ago
            raise


def _oldest_first(mailbox: BaseMailBox, criteria: str, limit: int) -> Iterator[tuple[str, bytes]]:
    """(UID, raw bytes) of the oldest `limit` matches. UIDs grow in arrival order, so the lowest ones
    are the oldest; the Date header is the sender's word and may lie."""
    uids = sorted(mailbox.uids(criteria, charset=None), key=int)[:limit]
    if not uids:
        return  # an empty uid_list makes imap-tools fetch the whole folder
    # One FETCH per message: a bulk FETCH answer can interleave other sessions' flag updates, and
    # imap-tools pairs its parts by position. mark_seen=False fetches with BODY.PEEK.
    for message in mailbox.fetch(uid_list=uids, mark_seen=False, bulk=False):
        if message.uid is not None:
            yield message.uid, message.raw


def _mark_processed(mailbox: BaseMailBox, uid: str, flags: tuple[str, ...], processed: str | None) -> None:
    # A raw UID STORE: imap-tools' flag() EXPUNGEs the folder afterwards, which would erase mail a
    # person has marked deleted but not yet expunged. .SILENT: we need no echo of the new flags.
    _ok(mailbox.client.uid("STORE", uid, "+FLAGS.SILENT", f"({' '.join(flags)})"), "STORE", uid)
    if processed is None:
        return
    folder = encode_folder(processed)
    if "MOVE" in mailbox.client.capabilities:
        _ok(mailbox.client.uid("MOVE", uid, folder), "MOVE", uid)
        return
    _ok(mailbox.client.uid("COPY", uid, folder), "COPY", uid)
    _ok(mailbox.client.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)"), "STORE", uid)
    if "UIDPLUS" in mailbox.client.capabilities:
        # UID EXPUNGE removes this message only; a plain EXPUNGE would take others' deletions too.
        _ok(mailbox.client.uid("EXPUNGE", uid), "EXPUNGE", uid)


def _ok(result: tuple, command: str, uid: str) -> None:
    status, data = result
    if status != "OK":
        raise imaplib.IMAP4.error(f"{command} of message {uid} refused: {data!r}")


class _RawMessage(MailMessage):
    """imap-tools parses each message; the pipeline keeps the exact bytes the server holds."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw: bytes = self._get_message_data_parts(fetch_data)[0]
