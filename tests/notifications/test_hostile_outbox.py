"""One bad email never stops the outbox: an address or a name that cannot go out fails alone, with a reason,
and every good email of its batch leaves in the same run. Sent to a real SMTP server, read back as received."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Max
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from notifications.delivery import claim, deliver_due, retry_now
from notifications.models import OutboundEmail
from notifications.outbox import Email, enqueue
from tests.mailserver import MailServer
from tests.notifications.test_delivery import T0, queue

Status = OutboundEmail.Status
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
pytestmark = pytest.mark.django_db


def queue_to(*addresses: str, name: str = "Reader", body: str = "Fixed.") -> list[OutboundEmail]:
    """One email to each address, queued the way the app queues them."""
    return enqueue([Email(recipient=address, recipient_name=name, language="en", kind="resolved",
                          dedupe_key=f"to:{n}:{address}", context={"body": body})
                    for n, address in enumerate(addresses)], now=T0)


def row_to(address: str) -> OutboundEmail:
    return OutboundEmail.objects.get(recipient=address)


def storable(text: str) -> str:
    """PostgreSQL refuses NUL in text, so there a NUL never reaches the outbox; SQLite keeps it."""
    return text.replace("\x00", "") if connection.vendor == "postgresql" else text


def only_where_storable(text: str) -> None:
    if storable(text) != text:
        pytest.skip("PostgreSQL cannot store a NUL: such a row cannot exist there")


@pytest.fixture
def utf8_smtp_server(smtp_server, settings):
    """A relay that offers SMTPUTF8 in its EHLO answer, used instead of the plain one."""
    server = MailServer(smtputf8=True)
    server.start()
    settings.EMAIL_PORT = server.port
    yield server
    server.stop()


def test_a_korean_domain_goes_out_as_punycode_in_the_same_run_as_the_rest(smtp_server):
    queue(3)
    queue_to("jisoo@한국.kr", name="김지수")

    assert deliver_due(now=T0) == 4

    received = smtp_server.mailbox.to("jisoo@xn--3e0b707e.kr")
    assert len(received) == 1
    assert ["jisoo@xn--3e0b707e.kr"] in [rcpts for rcpts, _options in smtp_server.mailbox.envelopes]
    assert received[0]["To"].addresses[0].display_name == "김지수"
    assert row_to("jisoo@한국.kr").status == Status.SENT


@pytest.mark.parametrize("address", [
    "a@b@c.example", "", "   ", "two words@customer.example.com", "grace@acme.example.com\r\nBcc: x@evil.example",
    "nul\x00@customer.example.com", "line\u2028break@customer.example.com", "no-domain@", "@no-local.example",
    "<grace@acme.example.com>", "x@" + "가" * 70 + ".kr",
])
def test_a_string_that_is_not_one_address_fails_alone_for_good_with_a_reason(smtp_server, address):
    only_where_storable(address)
    queue(2)
    queue_to(address)

    assert deliver_due(now=T0) == 2

    bad = row_to(address)
    assert (bad.status, bad.attempts) == (Status.FAILED, 1)
    assert "address" in bad.last_error.lower()
    assert len(smtp_server.mailbox.messages) == 2
    assert deliver_due(now=T0 + timedelta(days=1)) == 0  # and it is not tried again


@pytest.mark.parametrize(("name", "shown"), [
    ("Grace\r\nBcc: mallory@evil.example", "Grace Bcc: mallory@evil.example"),
    ("Grace\nTo: mallory@evil.example", "Grace To: mallory@evil.example"),
    ("Grace\x00Hopper", "Grace Hopper"),
    ("Grace\u2028Bcc: mallory@evil.example", "Grace Bcc: mallory@evil.example"),
    ("Grace\u0085Cc: mallory@evil.example", "Grace Cc: mallory@evil.example"),
])
def test_a_name_with_a_line_break_is_one_line_in_the_to_header_and_adds_no_header(smtp_server, name, shown):
    only_where_storable(name)
    queue_to("grace@acme.example.com", name=name)
    # A row written before names were cleaned at the door still carries the raw name.
    assert OutboundEmail.objects.filter(recipient="grace@acme.example.com").update(recipient_name=name) == 1

    assert deliver_due(now=T0) == 1

    [message] = smtp_server.mailbox.messages
    assert len(message.get_all("To")) == 1
    assert message.get_all("Bcc") is None and message.get_all("Cc") is None
    [address] = message["To"].addresses
    assert (address.display_name, address.addr_spec) == (shown, "grace@acme.example.com")
    assert [rcpts for rcpts, _options in smtp_server.mailbox.envelopes] == [["grace@acme.example.com"]]
    assert f"Hello {shown}," in message.get_body(("plain",)).get_content()


def test_names_are_stored_on_one_line_when_queued():
    queue_to("grace@acme.example.com", name="Grace\r\nBcc: mallory@evil.example\u2028 Hopper")

    assert row_to("grace@acme.example.com").recipient_name == "Grace Bcc: mallory@evil.example Hopper"


def test_a_non_ascii_local_part_goes_by_smtputf8_when_the_relay_offers_it(utf8_smtp_server):
    queue(1)
    queue_to("지수@한국.kr", name="김지수")

    assert deliver_due(now=T0) == 2

    [message] = utf8_smtp_server.mailbox.to("지수@")
    assert message["To"].addresses[0].addr_spec == "지수@xn--3e0b707e.kr"
    [options] = [options for rcpts, options in utf8_smtp_server.mailbox.envelopes if rcpts == ["지수@xn--3e0b707e.kr"]]
    assert "SMTPUTF8" in [option.upper() for option in options]


def test_a_non_ascii_local_part_fails_alone_when_the_relay_has_no_smtputf8(smtp_server):
    queue(2)
    queue_to("지수@한국.kr")

    assert deliver_due(now=T0) == 2

    bad = row_to("지수@한국.kr")
    assert bad.status == Status.FAILED and "SMTPUTF8" in bad.last_error


def test_an_email_too_large_for_the_relay_fails_alone_whether_it_says_so_in_ehlo_or_after_the_data(settings):
    relay = MailServer(size_limit=20_000)  # says "SIZE 20000" in its EHLO answer
    relay.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", relay.port, 5
    try:
        queue(3)
        queue_to("big@customer.example.com", body="log line\n" * 5_000)
        relay.mailbox.too_large.add("mail1@customer.example.com")  # refused with 552 once it has the data

        assert deliver_due(now=T0) == 2

        big, refused = row_to("big@customer.example.com"), row_to("mail1@customer.example.com")
        assert (big.status, big.attempts, refused.status, refused.attempts) == (Status.FAILED, 1, Status.FAILED, 1)
        assert "20000" in big.last_error and "large" in big.last_error
        assert "552" in refused.last_error
        assert len(relay.mailbox.messages) == 2
        assert deliver_due(now=T0 + timedelta(days=1)) == 0
    finally:
        relay.stop()


def test_an_address_deferred_with_451_is_retried_with_backoff_and_never_beyond_the_maximum(smtp_server, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    queue(2)
    smtp_server.mailbox.defer.add("mail0@customer.example.com")

    runs = [deliver_due(now=T0 + n * timedelta(hours=2)) for n in range(5)]

    assert runs == [1, 0, 0, 0, 0]
    deferred = row_to("mail0@customer.example.com")
    assert (deferred.status, deferred.attempts) == (Status.FAILED, 3)
    assert "451" in deferred.last_error

    # Staff retry it from the admin: a fresh round of attempts, which stops at the maximum too.
    assert retry_now(OutboundEmail.objects.filter(pk=deferred.pk), now=T0 + 10 * HOUR) == 1
    runs = [deliver_due(now=T0 + 10 * HOUR + n * timedelta(hours=2)) for n in range(5)]

    assert runs == [0, 0, 0, 0, 0]
    deferred.refresh_from_db()
    assert (deferred.status, deferred.attempts) == (Status.FAILED, 3)
    assert len(smtp_server.mailbox.messages) == 1


def test_an_email_whose_workers_died_on_its_last_attempt_fails_instead_of_going_again(smtp_server, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    settings.OUTBOX_LEASE_SECONDS = 60
    queue(1)
    assert claim(now=T0, limit=10).rows                    # a worker claims it and dies
    assert claim(now=T0 + 2 * MINUTE, limit=10).rows       # the next one too, on the last attempt

    assert deliver_due(now=T0 + 4 * MINUTE) == 0

    row = OutboundEmail.objects.get()
    assert (row.status, row.attempts) == (Status.FAILED, 2)
    assert row.last_error and row.lease_expires_at is None
    assert not smtp_server.mailbox.messages


def test_a_connection_lost_mid_batch_charges_only_the_email_in_flight(smtp_server):
    queue(4)
    smtp_server.mailbox.hang_up.add("mail1@customer.example.com")

    assert deliver_due(now=T0) == 1

    attempts = dict(OutboundEmail.objects.values_list("recipient", "attempts"))
    assert attempts == {"mail0@customer.example.com": 1, "mail1@customer.example.com": 1,
                        "mail2@customer.example.com": 0, "mail3@customer.example.com": 0}
    assert set(OutboundEmail.objects.exclude(status=Status.SENT).values_list("status", flat=True)) == {Status.PENDING}

    smtp_server.mailbox.hang_up.clear()
    assert deliver_due(now=T0 + MINUTE) == 3
    assert len(set(smtp_server.mailbox.message_ids())) == 4


HOSTILE = ["jisoo@한국.kr", "a@b@c.example", "", "지수@한국.kr", "spaced out@customer.example.com",
           "grace@acme.example.com\r\nBcc: x@evil.example", "x@" + "가" * 70 + ".kr"]


def test_in_an_hour_of_deliveries_every_good_email_leaves_in_the_first_run_whatever_the_bad_ones_do(
        smtp_server, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 5
    queue_to(*HOSTILE)
    OutboundEmail.objects.filter(recipient=HOSTILE[0]).update(recipient_name="Jisoo\r\nBcc: mallory@evil.example")
    good = queue(60)

    first_run = deliver_due(now=T0, batch_size=10)
    after_the_first_run = [rcpts for rcpts, _options in smtp_server.mailbox.envelopes]
    later_runs = [deliver_due(now=T0 + minute * MINUTE, batch_size=10) for minute in range(1, 60)]

    assert first_run == 61  # the 60 good ones and the Korean domain
    assert all([row.recipient] in after_the_first_run for row in good)
    assert len(later_runs) == 59 and sum(later_runs) == 0
    assert not OutboundEmail.objects.filter(status=Status.SENDING).exists()
    assert OutboundEmail.objects.aggregate(most=Max("attempts"))["most"] == 1
    failed = OutboundEmail.objects.filter(status=Status.FAILED)
    assert failed.count() == len(HOSTILE) - 1 and all(row.last_error for row in failed)
    assert len(smtp_server.mailbox.messages) == len(set(smtp_server.mailbox.message_ids())) == 61


# --- any batch, generated ------------------------------------------------------------------------------

HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1F64F)
BREAKS = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\t", "\x0b", "\x1b", "\x85", "\u2028", "\u2029", "\x7f"])
LOCAL = st.from_regex(r"[a-z0-9](?:[a-z0-9_+-]|\.(?=[a-z0-9])){0,15}", fullmatch=True)
IDN = st.builds("{}.{}".format, st.text(st.one_of(HANGUL, CJK, EMOJI), min_size=1, max_size=12),
                st.sampled_from(["kr", "example", "한국", "中国"]))


@st.composite
def broken(draw, text: st.SearchStrategy[str]) -> str:
    """A string with line breaks or control characters put in at any places."""
    value = draw(text)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(value)))
        value = value[:at] + draw(BREAKS) + value[at:]
    return value


hostile_addresses = st.one_of(
    st.builds("{}@{}".format, LOCAL, IDN),                                            # international domain
    st.builds("{}@{}".format, st.text(st.one_of(HANGUL, CJK), min_size=1, max_size=8), IDN),   # and local part
    broken(st.builds("{}@acme.example.com".format, LOCAL)),                           # line breaks, NUL
    st.lists(LOCAL, min_size=3, max_size=4).map(lambda parts: "@".join(parts) + ".example"),  # several @
    st.builds('"{}"@acme.example.com'.format, st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                                      max_size=20)),                  # quoted local parts
    st.builds("{}@acme.example.com".format, st.text("abcdefghij", min_size=65, max_size=200)),  # too long
    st.sampled_from(["", " ", "\t", "@", "a@", "@b.example", "a@@b.example", "<a@b.example>",
                     "a@b.example, c@d.example"]),
    st.text(max_size=40),                                                             # anything at all
).filter(lambda address: len(address) <= 254)
hostile_names = st.one_of(
    broken(st.text(max_size=60)),
    st.text(st.one_of(HANGUL, CJK, EMOJI), max_size=80),
    st.text(max_size=400),                                                            # very long
    st.sampled_from(["", '"Quoted, Name"', "Back\\slash", "=?utf-8?q?encoded?=", "Grace <mallory@evil.example>"]),
)
# What our emails carry, so a header smuggled in through a name or an address would show.
HEADERS = {"content-type", "mime-version", "content-transfer-encoding", "subject", "from", "to", "date",
           "message-id", "reply-to", "in-reply-to", "references", "list-unsubscribe", "list-unsubscribe-post",
           "auto-submitted", "x-auto-response-suppress"}


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])
@given(bad=st.lists(st.tuples(hostile_addresses, hostile_names), min_size=1, max_size=6),
       good_names=st.lists(hostile_names, min_size=3, max_size=3), names_written_raw=st.booleans(),
       relay_offers_smtputf8=st.booleans(), batch_size=st.integers(2, 10))
def test_in_any_batch_the_good_emails_leave_in_the_same_run_and_every_bad_one_is_settled(
        smtp_server, utf8_smtp_server, settings, bad, good_names, names_written_raw, relay_offers_smtputf8,
        batch_size):
    OutboundEmail.objects.all().delete()
    relay = utf8_smtp_server if relay_offers_smtputf8 else smtp_server
    settings.EMAIL_PORT = relay.port
    relay.mailbox.messages.clear()
    relay.mailbox.envelopes.clear()
    good = [(f"good{n}@inloop-good.example", name) for n, name in enumerate(good_names)]
    bad = [(storable(address), name) for address, name in bad]
    mixed = [pair for pairs in zip(bad, good, strict=False) for pair in pairs] + bad[len(good):] + good[len(bad):]
    enqueue([Email(recipient=address, recipient_name=name, language="en", kind="resolved", dedupe_key=f"h:{n}",
                   context={"body": "Fixed."}) for n, (address, name) in enumerate(mixed)], now=T0)
    if names_written_raw:  # as if queued before names were cleaned at the door
        for n, (_address, name) in enumerate(mixed):
            OutboundEmail.objects.filter(dedupe_key=f"h:{n}").update(recipient_name=storable(name)[:200])

    sent = deliver_due(now=T0, batch_size=batch_size)

    envelopes = [rcpts for rcpts, _options in relay.mailbox.envelopes]
    for address, _name in good:
        assert envelopes.count([address]) == 1
    rows = list(OutboundEmail.objects.all())
    assert len(rows) == len(mixed) and sent == sum(row.status == Status.SENT for row in rows)
    assert {row.status for row in rows} <= {Status.SENT, Status.FAILED}
    assert all(row.last_error for row in rows if row.status == Status.FAILED)
    assert max(row.attempts for row in rows) <= settings.OUTBOX_MAX_ATTEMPTS
    assert sorted(relay.mailbox.message_ids()) == sorted(row.message_id for row in rows if row.status == Status.SENT)
    for message in relay.mailbox.messages:
        assert len(message.get_all("To")) == 1 and len(message["To"].addresses) == 1
        assert {name.lower() for name in message.keys()} <= HEADERS
    assert all(len(rcpts) == 1 for rcpts in envelopes)
