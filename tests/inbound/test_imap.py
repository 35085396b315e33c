"""Polling a real IMAP server (a private dovecot): every customer reply is stored once, and marked on the
server only after it was stored, whatever fails on the way."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbound.imap import (
    KEYWORD,
    FetchResult,
    ImapError,
    fetch_new,
    keeps_keywords,
    parse_url,
)
from tests.imapserver import (  # noqa: F401
    ImapServer,
    dovecot,
    imap_server,
    message,
    skip_without_dovecot,
)

pytestmark = pytest.mark.imap

SEEN = "\\Seen"
DELETED = "\\Deleted"
PROCESSED = frozenset({SEEN, KEYWORD})


class Pipeline:
    """A stand-in for the lead's pipeline: stores a message once per Message-ID, as the real one does
    with its unique column, and remembers every call so a second delivery shows."""

    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.calls: list[str] = []
        self.refuse: set[str] = set()

    def __call__(self, raw: bytes) -> None:
        message_id = message_from_bytes(raw)["Message-ID"]
        self.calls.append(message_id)
        if message_id in self.refuse:
            raise ValueError(f"cannot store {message_id}")
        self.stored.setdefault(message_id, raw)


class Crash(BaseException):
    """The worker dies: nothing in fetch_new may catch it, as nothing catches a SIGKILL."""


def reply_id(n: int) -> str:
    return f"<reply-{n}@acme.example.com>"


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline()


# -- The happy path -----------------------------------------------------------------------------------

def test_it_stores_each_new_reply_once_oldest_first_byte_for_byte_and_then_flags_it(imap_server, pipeline):
    korean = message(3, body="내일 오전까지 답변 부탁드립니다.")
    imap_server.append_many([message(1), message(2), korean])

    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult(fetched=3, stored=3, failed=0)

    assert list(pipeline.stored) == [reply_id(1), reply_id(2), reply_id(3)]
    assert pipeline.stored[reply_id(3)] == korean
    assert [stored.flags for stored in imap_server.messages()] == [PROCESSED] * 3


def test_a_poll_with_nothing_new_fetches_nothing(imap_server, pipeline):
    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult()
    imap_server.append(message(1))
    assert fetch_new(url=imap_server.url, store=pipeline).stored == 1

    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult()
    assert pipeline.calls == [reply_id(1)]


def test_a_reply_a_colleague_already_read_in_their_mail_client_is_still_taken_in(imap_server, pipeline):
    """Why we look for our own keyword, not for UNSEEN: reading a message marks it seen."""
    imap_server.append(message(1), flags=[SEEN])
    imap_server.append(message(2), flags=["\\Answered", "\\Flagged"])

    assert fetch_new(url=imap_server.url, store=pipeline).stored == 2
    assert [stored.flags for stored in imap_server.messages()] == [PROCESSED, PROCESSED | {"\\Answered",
                                                                                           "\\Flagged"}]


def test_a_poll_takes_the_oldest_up_to_its_limit_and_the_next_poll_the_rest(imap_server, pipeline):
    imap_server.append_many(message(n) for n in range(5))

    assert fetch_new(url=imap_server.url, store=pipeline, limit=2).stored == 2
    assert list(pipeline.stored) == [reply_id(0), reply_id(1)]
    assert fetch_new(url=imap_server.url, store=pipeline, limit=2).stored == 2
    assert fetch_new(url=imap_server.url, store=pipeline, limit=2).stored == 1
    assert list(pipeline.stored) == [reply_id(n) for n in range(5)]


def test_a_thousand_replies_are_all_stored_once_over_two_polls(imap_server, pipeline):
    assert imap_server.append_many(message(n) for n in range(1000)) == 1000

    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult(fetched=500, stored=500, failed=0)
    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult(fetched=500, stored=500, failed=0)
    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult()

    assert list(pipeline.stored) == [reply_id(n) for n in range(1000)]
    assert len(pipeline.calls) == 1000
    assert all(stored.flags == PROCESSED for stored in imap_server.messages())


# -- When storing fails ---------------------------------------------------------------------------------

def test_a_reply_that_cannot_be_stored_stays_unread_and_unflagged_for_the_next_poll_while_the_others_go_on(
        imap_server, pipeline):
    imap_server.append_many(message(n) for n in (1, 2, 3))
    pipeline.refuse = {reply_id(2)}

    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult(fetched=3, stored=2, failed=1)
    # Fetching did not mark it seen either (BODY.PEEK): a person still sees it as new.
    assert [stored.flags for stored in imap_server.messages()] == [PROCESSED, frozenset(), PROCESSED]

    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult(fetched=1, stored=0, failed=1)
    pipeline.refuse.clear()
    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult(fetched=1, stored=1, failed=0)
    assert list(pipeline.stored) == [reply_id(1), reply_id(3), reply_id(2)]
    assert [stored.flags for stored in imap_server.messages()] == [PROCESSED] * 3


def test_a_crash_between_storing_and_flagging_fetches_the_reply_again_and_it_is_stored_once(
        imap_server, pipeline):
    imap_server.append_many(message(n) for n in (1, 2, 3))

    def store_then_die(raw: bytes) -> None:
        pipeline(raw)
        if message_from_bytes(raw)["Message-ID"] == reply_id(2):
            raise Crash  # stored and committed; the flag is never sent

    with pytest.raises(Crash):
        fetch_new(url=imap_server.url, store=store_then_die)
    assert [stored.flags for stored in imap_server.messages()] == [PROCESSED, frozenset(), frozenset()]

    assert fetch_new(url=imap_server.url, store=pipeline) == FetchResult(fetched=2, stored=2, failed=0)
    assert pipeline.calls == [reply_id(1), reply_id(2), reply_id(2), reply_id(3)]  # delivered twice ...
    assert list(pipeline.stored) == [reply_id(1), reply_id(2), reply_id(3)]        # ... stored once
    assert [stored.flags for stored in imap_server.messages()] == [PROCESSED] * 3


def test_a_poll_never_expunges_mail_a_colleague_marked_deleted(imap_server, pipeline):
    imap_server.append(message(1), flags=[DELETED])
    imap_server.append(message(2))

    assert fetch_new(url=imap_server.url, store=pipeline).stored == 2
    # Even a deleted reply is taken in: it may be the customer's answer, deleted by mistake.
    assert [stored.flags for stored in imap_server.messages()] == [PROCESSED | {DELETED}, PROCESSED]


# -- A processed folder instead of a keyword --------------------------------------------------------------

@pytest.mark.parametrize("folder", ["Processed", "처리됨"])
def test_with_a_processed_folder_each_stored_reply_moves_there_and_the_folder_is_created_once(
        imap_server, pipeline, folder):
    imap_server.append_many(message(n) for n in (1, 2, 3))
    pipeline.refuse = {reply_id(2)}
    url = imap_server.url_for(processed=folder)

    assert fetch_new(url=url, store=pipeline) == FetchResult(fetched=3, stored=2, failed=1)
    assert folder in imap_server.folders()
    assert [(s.message_id, s.flags) for s in imap_server.messages(folder)] == [
        (reply_id(1), PROCESSED), (reply_id(3), PROCESSED)]
    assert [(s.message_id, s.flags) for s in imap_server.messages()] == [(reply_id(2), frozenset())]

    pipeline.refuse.clear()
    assert fetch_new(url=url, store=pipeline) == FetchResult(fetched=1, stored=1, failed=0)
    assert imap_server.messages() == []
    assert len(imap_server.messages(folder)) == 3
    assert fetch_new(url=url, store=pipeline) == FetchResult()


def test_a_reply_flagged_but_not_yet_moved_when_the_worker_died_is_moved_at_the_next_poll(
        imap_server, pipeline):
    imap_server.create_folder("Processed")
    imap_server.append(message(1), flags=[SEEN, KEYWORD])

    assert fetch_new(url=imap_server.url_for(processed="Processed"), store=pipeline).stored == 1
    assert imap_server.messages() == [] and len(imap_server.messages("Processed")) == 1


@pytest.mark.parametrize("capability", ["IMAP4rev1 LITERAL+ UIDPLUS", "IMAP4rev1 LITERAL+"])
def test_without_move_a_server_gets_copy_and_delete_and_a_colleagues_deletions_survive(
        pipeline, capability):
    skip_without_dovecot()
    server = ImapServer(capability=capability)
    server.start()
    try:
        server.append(message(1), flags=[DELETED])  # a colleague's, waiting for their client to expunge
        server.create_folder("Processed")
        server.append_many([message(2), message(3)])
        url = server.url_for(processed="Processed")

        assert fetch_new(url=url, store=pipeline).stored == 2
        assert fetch_new(url=url, store=pipeline) == FetchResult()

        left = [stored.message_id for stored in server.messages()]
        assert reply_id(1) in left and reply_id(1) not in pipeline.stored
        # With UIDPLUS our copies are expunged one by one; without it they wait, marked deleted.
        assert left == ([reply_id(1)] if "UIDPLUS" in capability else [reply_id(n) for n in (1, 2, 3)])
        assert [stored.message_id for stored in server.messages("Processed")] == [reply_id(2), reply_id(3)]
    finally:
        server.stop()


def test_a_server_that_keeps_no_keywords_needs_a_processed_folder():
    """dovecot keeps any keyword, so this reads the server's answer the way a stricter server gives it."""
    assert keeps_keywords([None])  # RFC 3501: no PERMANENTFLAGS means every flag is kept
    assert keeps_keywords([b"(\\Seen \\Deleted \\*)"])
    assert keeps_keywords([b"(\\Seen \\Deleted $Inloop)"])
    assert not keeps_keywords([b"(\\Seen \\Deleted \\Flagged)"])
    assert not keeps_keywords([b"(\\Seen \\Deleted $InloopOld)"])
    assert not keeps_keywords([b"()"])  # said, and empty: nothing sticks


# -- Logging in, and servers that misbehave -----------------------------------------------------------------

def test_a_password_full_of_url_characters_and_hangul_logs_in_once_percent_encoded(imap_server, pipeline):
    imap_server.new_mailbox(password="p@ss w/rd?#%&+=한글")  # no ":", which the server's user file splits on
    imap_server.append(message(1))

    assert fetch_new(url=imap_server.url, store=pipeline).stored == 1


def test_a_wrong_password_says_the_login_was_refused_and_never_shows_the_password(imap_server, pipeline):
    imap_server.append(message(1))

    with pytest.raises(ImapError, match="logging in") as refused:
        fetch_new(url=imap_server.url_for(password="wrong-horse-battery"), store=pipeline)
    assert "AUTHENTICATIONFAILED" in str(refused.value) and imap_server.user in str(refused.value)
    assert "wrong-horse-battery" not in str(refused.value)
    assert pipeline.calls == [] and imap_server.messages()[0].flags == frozenset()


def test_a_folder_that_does_not_exist_is_named_in_the_error(imap_server, pipeline):
    with pytest.raises(ImapError, match="opening the folder 'Replies'"):
        fetch_new(url=imap_server.url_for("Replies"), store=pipeline)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections (the kernel completes the handshake) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def greets_then_silent() -> Iterator[int]:
    """Greets and tells its capabilities like an IMAP server, then nothing more: stuck at the login."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        with listener:
            connection, _ = listener.accept()
            accepted.append(connection)
            connection.sendall(b"* OK IMAP4rev1 ready\r\n")
            tag = connection.recv(1024).split()[0]  # b"ABCD1 CAPABILITY"
            connection.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()


@pytest.mark.parametrize("server, step", [("silent_server", "connecting"), ("greets_then_silent", "logging in")])
def test_a_server_that_stops_answering_fails_the_poll_within_the_timeout_instead_of_hanging(
        request, pipeline, server, step):
    port = request.getfixturevalue(server)
    started = time.monotonic()

    with pytest.raises(ImapError, match=f"{step}: the server did not answer within 0.5 s"):
        fetch_new(url=f"imap://support:secret@127.0.0.1:{port}/INBOX", store=pipeline, timeout=0.5)
    assert time.monotonic() - started < 5
    assert pipeline.calls == []


def test_a_server_that_is_down_says_the_connection_was_refused(pipeline):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ImapError, match="connecting: connection refused"):
        fetch_new(url=f"imap://support:secret@127.0.0.1:{port}/INBOX", store=pipeline, timeout=2)


# -- TLS ---------------------------------------------------------------------------------------------

@pytest.fixture
def tls_server(imap_server: ImapServer) -> ImapServer:
    if imap_server.certificate is None:
        pytest.skip("needs openssl to make the test server's certificate")
    return imap_server


@pytest.mark.parametrize("scheme", ["imaps", "imap+starttls"])
def test_tls_refuses_a_certificate_nobody_vouches_for_and_works_once_it_is_trusted(
        tls_server, pipeline, monkeypatch, scheme):
    tls_server.append(message(1))
    url = tls_server.url_for(scheme=scheme)

    with pytest.raises(ImapError, match="certificate verify failed"):
        fetch_new(url=url, store=pipeline, timeout=5)
    assert pipeline.calls == []

    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.certificate))  # as a company CA would be
    assert fetch_new(url=url, store=pipeline, timeout=5).stored == 1


# -- Reading INBOUND_IMAP_URL ------------------------------------------------------------------------------

def test_a_url_names_the_server_the_account_and_the_folders():
    url = parse_url("imap+starttls://support%40acme.example:s3cr%3At@Mail.Example.com:1143/Support%2FReplies"
                    "?processed=Done%2B%EC%B2%98%EB%A6%AC")

    assert (url.scheme, url.host, url.port) == ("imap+starttls", "mail.example.com", 1143)
    assert (url.user, url.password) == ("support@acme.example", "s3cr:t")
    assert (url.folder, url.processed) == ("Support/Replies", "Done+처리")
    assert parse_url("imaps://support:secret@mail.example.com").port == 993
    assert parse_url("imaps://support:secret@mail.example.com").folder == "INBOX"
    assert parse_url("imap://support:secret@127.0.0.1/").port == 143


@pytest.mark.parametrize("url, complaint", [
    ("https://support:secret@mail.example.com/INBOX", "unknown scheme"),
    ("imaps://mail.example.com/INBOX", "give the user and the password"),
    ("imaps://support@mail.example.com/INBOX", "give the user and the password"),
    ("imaps://support:secret@/INBOX", "no host"),
    ("imaps://support:secret@mail.example.com:99999/INBOX", "cannot read the host and port"),
    ("imaps://support:se#cret@mail.example.com/INBOX", "percent-encode"),
    ("imaps://support:secret@mail.example.com/INBOX?processd=Done", "unknown option 'processd'"),
    ("imaps://support:secret@mail.example.com/INBOX?processed=", "a folder other than"),
    ("imaps://support:secret@mail.example.com/INBOX?processed=INBOX", "a folder other than"),
])
def test_a_url_that_cannot_work_is_refused_with_the_reason(url, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_url(url)


printable = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(user=printable, password=printable, folder=printable, processed=printable)
def test_any_user_password_and_folders_survive_percent_encoding(user, password, folder, processed):
    if processed == folder:
        processed += "-done"
    url = parse_url(f"imaps://{quote(user, safe='')}:{quote(password, safe='')}@mail.example.com/"
                    f"{quote(folder, safe='')}?processed={quote(processed, safe='')}")

    assert (url.user, url.password, url.folder, url.processed) == (user, password, folder, processed)


def test_a_parsed_url_never_shows_its_password():
    url = parse_url("imaps://support:correct-horse@mail.example.com/INBOX")
    assert "correct-horse" not in repr(url) + str(url)


@settings(max_examples=100, deadline=None)
@given(tail=st.text(max_size=60))
def test_a_hostile_url_is_either_read_or_refused_with_a_value_error(tail):
    for scheme in ("imaps", "imap", "imap+starttls", "http"):
        try:
            parsed = parse_url(f"{scheme}://{tail}")
        except ValueError:
            continue
        assert parsed.user and parsed.password and parsed.host and 0 < parsed.port < 65536
