"""Reading what customers' mail clients, mail servers and robots send us (tests/inbound/corpus).

Every file of the corpus is a raw message as it reaches our mail server; the table below says what the
pipeline must learn from it. ``new_text`` is the reply as the customer typed it: no quoted history, no
signature.
"""

from __future__ import annotations

import base64
import os
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbound.mime import clean_filename
from inbound.parse import Parsed, parse

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(path.name for path in CORPUS.glob("*.eml"))
KST = timezone(timedelta(hours=9))
US = "support@inloop.localhost"

EXPECTED: dict[str, dict] = {
    "01-gmail-en-reply.eml": {
        "message_id": "CAJx8d=Q2mK+o1VxM4sT7pB3yq9zZ0Hn5rQvX@mail.gmail.com",
        "in_reply_to": ["20261129060000.1842.7e1c@inloop.localhost"],
        "references": ["issue-42@inloop.localhost", "20261129060000.1842.7e1c@inloop.localhost"],
        "sender": "jane.park@acme-global.com", "sender_name": "Jane Park",
        "recipients": [US, "tom.lee@acme-global.com", "jane.park@acme-global.com"],
        "subject": "Re: [ACME-42] We are on it: Exports time out after 30 seconds",
        "date": datetime(2026, 11, 29, 15, 42, 9, tzinfo=KST),
        "new_text": "Hi,\n\nThanks for the quick answer. The export still times out for the March report, but the "
                    "smaller ones work now.\n\nCan you tell us when the fix will be deployed?\n\nJane",
        "html_contains": 'class="gmail_quote"', "text_contains": "> Hello Jane,"},
    "02-gmail-ko-reply.eml": {
        "sender": "minsu.kim@acme.co.kr", "sender_name": "김민수",
        "subject": "Re: [ACME-17] 문의를 접수했습니다: 로그인 후 대시보드가 비어 있습니다",
        "new_text": "안녕하세요.\n\n확인해 주셔서 감사합니다. 크롬에서는 여전히 빈 화면이 나오고, 엣지에서는 정상입니다.\n"
                    "스크린샷이 필요하시면 말씀해 주세요.\n\n김민수 드림"},
    "03-outlook-en-original-message.eml": {
        "sender": "tom.lee@acme-global.com", "date": datetime(2026, 11, 30, 0, 12, 43, tzinfo=UTC),
        "in_reply_to": ["20261129060000.1903.c4d1@inloop.localhost"],
        "new_text": "Hello Mina,\n\nWe tried again this morning and the export of the March report finished in 12 "
                    "seconds. You can close the issue from our side."},
    "04-outlook-ko-original-message.eml": {
        "sender": "sujin.lee@acekorea.co.kr", "sender_name": "이수진", "subject": "회신: [ACE-7] 진행 상황: 로그인 오류",
        "new_text": "최민아 매니저님,\n\n오늘 오전에 다시 확인해 보니 정상적으로 로그인됩니다.\n빠르게 처리해 주셔서 고맙습니다."},
    "05-naver-reply.eml": {
        "sender": "seoyeon_p@naver.com", "sender_name": "박서연",
        "message_id": "4a8c2e1f9b7d6e3a5c0b1f2d8e7a6c5b@cweb006.nm.nhn",
        "new_text": "안녕하세요, 박서연입니다.\n\n말씀하신 대로 캐시를 지우고 다시 시도했는데도 결제 페이지에서 오류가 납니다.\n"
                    "오류 코드는 PAY-502 입니다."},
    "06-daum-reply.eml": {
        "sender": "jihoon.park@daum.net", "sender_name": "박지훈", "subject": "Re: [ACME-51] 진행 상황: 동기화 지연",
        "new_text": "담당자님 안녕하세요.\n\n요청하신 로그 파일은 오늘 오후에 보내드리겠습니다.\n"
                    "참고로 오류는 매일 오전 9시쯤에 가장 많이 발생합니다."},
    "07-apple-mail-reply.eml": {
        "message_id": "8E3F0C1A-7B2D-4C5E-9F6A-1B2C3D4E5F60@acme-global.com",
        "new_text": "Hi Mina,\n\nThat worked, thank you! One more question: can we export to CSV instead of Excel?"
                    "\n\nJane"},
    "08-iphone-reply.eml": {"new_text": "Confirmed on my side too. Thanks!", "text_contains": "Sent from my iPhone"},
    "09-thunderbird-reply.eml": {
        "new_text": "Hello,\n\nThe nightly sync failed again at 02:00 with the same error:\n\n  ERROR sync.worker: "
                    "upstream closed connection (code 104)\n\nPlease raise the priority, the finance team depends "
                    "on it.",
        "text_contains": "-- \nDaniel Yoon"},
    "10-gmail-html-only.eml": {
        "html_contains": "gmail_quote", "text_contains": "> Hello Jane,",
        "new_text": "Hi Mina,\n\nSorry, I forgot to mention: the problem only happens for users in the Busan office."},
    "11-outlook-ko-html-only.eml": {
        "sender_name": "정하늘", "subject": "회신: [ACE-9] 문의를 접수했습니다: 알림이 오지 않습니다",
        "new_text": "담당자님,\n\n같은 증상이 모바일 앱에서도 발생합니다. 안드로이드 14, 앱 버전 3.2.1입니다."},
    "12-outlook-en-html-border-top.eml": {
        "new_text": "Hi Mina,\n\nAttached is the log from last night. The job stopped at 02:14."},
    "13-outlook-web-underscore-separator.eml": {
        "recipients": [US, "sophie.han@acme-global.com"],
        "new_text": "Hi,\n\nPlease add my colleague Sophie (sophie.han@acme-global.com) to this issue."},
    "14-reply-with-pdf-and-image.eml": {
        "recipients": [US, "acme@inloop.localhost"], "subject": "Re: [ACME-17] 견적서 첨부",
        "attachments": [("견적서.pdf", "application/pdf"), ("screen shot.png", "image/png")],
        "new_text": "안녕하세요.\n\n요청하신 견적서와 오류 화면 캡처를 첨부합니다.\n확인 부탁드립니다."},
    "15-euc-kr-8bit.eml": {
        "sender_name": "홍길동", "subject": "RE: [ACE-12] 진행 상황: 보고서 출력 오류",
        "new_text": "안녕하세요. 에이스코리아 전산팀 홍길동입니다.\n\n말씀하신 패치를 적용한 뒤로 보고서 출력이 정상입니다.\n"
                    "이번 건은 종료하셔도 됩니다."},
    "16-iso-2022-kr.eml": {
        "sender_name": "한지민", "subject": "Re: [ACE-15] 계정 잠금 해제",
        "new_text": "안녕하세요.\n\n요청하신 계정 잠금 해제 확인했습니다. 감사합니다."},
    "17-samsung-galaxy-reply.eml": {"new_text": "네 확인했습니다. 내일 오전 10시에 원격 지원 부탁드립니다."},
    "18-out-of-office-auto-submitted.eml": {
        "auto": "auto-submitted: auto-replied", "new_text_contains": "12월 4일까지 휴가입니다."},
    "19-out-of-office-exchange.eml": {
        "auto": "x-auto-response-suppress", "new_text_contains": "out of the office until 7 December"},
    "20-precedence-bulk.eml": {
        "auto": "precedence: bulk",
        "new_text": "This month at Acme Global: new offices in Busan, and a new finance system.\n\nTo stop receiving "
                    "these emails, reply with UNSUBSCRIBE."},
    "21-mailing-list.eml": {
        "auto": "list-id", "recipients": ["it-ops@lists.acme-global.com", US],
        "new_text": "Does anyone know whether the nightly sync is fixed? I cc'd the vendor.\n\nDaniel"},
    "22-dsn-bounce-5.1.1.eml": {
        "auto": "bounce", "sender": "mailer-daemon@mx.inloop.localhost",
        "new_text_contains": "could not\nbe delivered to one or more recipients",
        "bounce": ([("nobody@acme.co.kr", "5.1.1", "550 5.1.1 <nobody@acme.co.kr>: Recipient address rejected: "
                     "User unknown in virtual mailbox table")], True, "tok.abc@inloop.localhost")},
    "23-dsn-delayed-4.4.1.eml": {
        "auto": "bounce", "attachments": [("attachment", "message/rfc822")],
        "new_text_contains": "THIS IS A WARNING ONLY",
        "bounce": ([("jihoon.park@daum.net", "4.4.1", "connect to mx1.hanmail.net[203.0.113.40]:25: Connection "
                     "timed out")], False, "tok.def@inloop.localhost")},
    "24-postfix-plain-bounce.eml": {
        "auto": "bounce", "new_text_contains": "Mailbox disabled, not accepting",
        "bounce": ([("old.account@acekorea.co.kr", "5.2.1", "host mail.acekorea.co.kr[203.0.113.82] said: 550 "
                     "5.2.1 <old.account@acekorea.co.kr>: Mailbox disabled, not accepting messages (in reply to RCPT "
                     "TO command)")], True, "tok.ghi@inloop.localhost")},
    "25-exim-bounce.eml": {
        "auto": "bounce", "new_text_contains": "This is a permanent error.",
        "bounce": ([("ghost@acme-global.com", "5.0.0", "host mx2.acme-global.com [198.51.100.2] SMTP error from "
                     "remote mail server after RCPT TO:<ghost@acme-global.com>: 550 No such user here"),
                    ("gone@acme-global.com", "5.1.1", "host mx2.acme-global.com [198.51.100.2] SMTP error from "
                     "remote mail server after RCPT TO:<gone@acme-global.com>: 550 5.1.1 Mailbox unavailable")],
                   True, "tok.jkl@inloop.localhost")},
    "26-malformed-mime.eml": {
        "new_text": "Here are the logs from last night, the attachment got cut off by our gateway.",
        "attachments": [("sync.log", "application/octet-stream")],
        "defects_contain": ["CloseBoundaryNotFoundDefect", "InvalidBase64CharactersDefect"]},
    "27-no-message-id.eml": {
        "message_id": "", "date": None, "sender": "minsu0321@naver.com", "sender_name": "",
        "subject": "전화 부탁드립니다", "new_text": "Can someone call me back? 010-1234-5678"},
    "28-unknown-charset.eml": {
        "subject": "[ACE-3] 업데이트", "new_text": "업데이트 일정을 알려 주세요.",
        "defects_contain": ["unknown charset 'x-unknown'"]},
    "29-8bit-raw-headers.eml": {
        "sender_name": "박서연", "subject": "Re: [SHOP-88] 결제 오류 — 해결됐습니다",
        "recipients": [US, "gildong@acekorea.co.kr"], "new_text": "해결됐습니다. 감사합니다!",
        "defects_contain": ["raw 8-bit bytes in subject", "raw 8-bit bytes in cc"]},
    "30-empty-body.eml": {"text": "", "new_text": "", "html": "", "attachments": []},
    "31-idn-sender-and-recipients.eml": {
        "sender": "info@예시.한국", "sender_name": "예시 주식회사", "message_id": "idn.1@xn--vv4b11d.xn--3e0b707e",
        "in_reply_to": ["20261129060000.3170.6a3d@inloop.localhost"],
        "references": ["issue-5@inloop.localhost", "20261129060000.3170.6a3d@inloop.localhost"],
        "recipients": [US, "acme@inloop.localhost"], "subject": "문의 드립니다", "new_text": "새 문의가 있습니다."},
}
# Mail a person wrote: not automatic, not a bounce, and the reply read out.
PEOPLE = [name for name in EXPECTED if "auto" not in EXPECTED[name]]


def read(name: str) -> Parsed:
    return parse((CORPUS / name).read_bytes())


def test_the_corpus_covers_every_client_and_failure_we_promised() -> None:
    assert len(FILES) >= 24
    assert sorted(EXPECTED) == FILES, "every corpus file says what it must give, and every expectation has a file"
    assert len(PEOPLE) >= 17
    assert all("new_text" in expected or "new_text_contains" in expected for expected in EXPECTED.values())


@pytest.mark.parametrize("name", FILES)
def test_every_message_of_the_corpus_is_read_as_expected(name: str) -> None:
    parsed = read(name)
    expected = dict(EXPECTED[name])
    checked = 0
    for key, value in expected.items():
        checked += 1
        if key == "bounce":
            recipients, permanent, original = value
            assert parsed.bounce is not None
            assert (parsed.bounce.recipients, parsed.bounce.permanent, parsed.bounce.original_message_id) == \
                   (recipients, permanent, original)
        elif key == "attachments":
            assert [(item.filename, item.content_type) for item in parsed.attachments] == value
        elif key.endswith("_contains"):
            assert value in getattr(parsed, key.removesuffix("_contains"))
        elif key == "defects_contain":
            assert set(value) <= set(parsed.defects)
        else:
            assert getattr(parsed, key) == value, key
    assert checked >= 1


@pytest.mark.parametrize("name", PEOPLE)
def test_a_person_s_reply_is_neither_automatic_nor_a_bounce(name: str) -> None:
    parsed = read(name)
    assert (parsed.auto, parsed.bounce) == ("", None)
    assert parsed.date is None or parsed.date.tzinfo is not None
    assert "\n" not in parsed.subject and "\n" not in parsed.sender_name


def test_the_attachments_keep_their_bytes_and_lose_their_paths() -> None:
    pdf, png = read("14-reply-with-pdf-and-image.eml").attachments
    assert pdf.payload.startswith(b"%PDF-1.4") and pdf.payload.endswith(b"%%EOF\n")
    assert png.payload.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.filename == "screen shot.png"  # was C:\Users\minsu\Desktop\..\screen<TAB>shot.png


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\minsu\\report.pdf", "report.pdf"),
    ("invoice\u202egnp.exe", "invoice gnp.exe"),  # the right-to-left override that disguises an .exe
    ("line\r\nbreak\x00.txt", "line break .txt"),
    ("", "attachment"),
    ("..", "attachment"),
    ("가" * 300 + ".pdf", "가" * 196 + ".pdf"),
])
def test_attachment_names_are_made_safe(name: str, expected: str) -> None:
    assert clean_filename(name) == expected
    assert len(clean_filename(name)) <= 200


def message(headers: str, body: str = "Hello\n", content_type: str = "text/plain; charset=utf-8") -> bytes:
    return (f"From: Minsu <minsu.kim@acme.co.kr>\nTo: {US}\nSubject: test\nMessage-ID: <m1@acme.co.kr>\n"
            f"{headers}MIME-Version: 1.0\nContent-Type: {content_type}\n\n{body}").encode()


def report(kind: str, block: str) -> bytes:
    body = (f"--B\nContent-Type: text/plain\n\nA report.\n\n--B\nContent-Type: message/{kind}\n\n{block}\n"
            f"--B--\n")
    return message("", body, f'multipart/report; report-type="{kind}"; boundary="B"')


def test_a_delivery_receipt_is_automatic_but_no_bounce() -> None:
    parsed = parse(report("delivery-status", "Reporting-MTA: dns; mx.acme.co.kr\n\nFinal-Recipient: rfc822; "
                                             "minsu.kim@acme.co.kr\nAction: delivered\nStatus: 2.0.0\n"))
    assert (parsed.auto, parsed.bounce) == ("delivery-status", None)


def test_a_read_receipt_is_automatic() -> None:
    parsed = parse(report("disposition-notification", "Final-Recipient: rfc822; minsu.kim@acme.co.kr\n"
                                                      "Disposition: manual-action/MDN-sent-manually; displayed\n"))
    assert parsed.auto == "disposition-notification"


@pytest.mark.parametrize(("headers", "sender", "auto"), [
    ("Auto-Submitted: auto-generated\n", "minsu.kim@acme.co.kr", "auto-submitted: auto-generated"),
    ("Auto-Submitted: no\n", "minsu.kim@acme.co.kr", ""),
    ("X-Autoreply: yes\n", "minsu.kim@acme.co.kr", "x-autoreply"),
    ("X-Auto-Response-Suppress: DR, OOF, AutoReply\n", "minsu.kim@acme.co.kr", "x-auto-response-suppress"),
    ("Precedence: junk\n", "minsu.kim@acme.co.kr", "precedence: junk"),
    ("Return-Path: <>\n", "minsu.kim@acme.co.kr", "return-path: <>"),
    ("", "noreply@acme.co.kr", "no-reply"),
    ("", "postmaster@acme.co.kr", "mailer-daemon"),
])
def test_automatic_mail_says_why(headers: str, sender: str, auto: str) -> None:
    raw = message(headers).replace(b"minsu.kim@acme.co.kr", sender.encode())
    assert parse(raw).auto == auto


@pytest.mark.parametrize("subject", ["Automatic reply: [ACME-42] Update", "자동 회신: [ACE-7] 진행 상황",
                                     "Out of Office: back on Monday"])
def test_an_out_of_office_subject_alone_is_enough(subject: str) -> None:
    assert parse(message("").replace(b"Subject: test", f"Subject: {subject}".encode())).auto == \
           "subject: automatic reply"


def test_a_reply_about_an_out_of_office_subject_is_from_a_person() -> None:
    assert parse(message("").replace(b"Subject: test", b"Subject: Re: Automatic reply: [ACME-42]")).auto == ""


def test_a_date_in_minus_zero_is_utc_and_still_aware() -> None:
    assert parse(message("Date: Sun, 29 Nov 2026 06:00:00 -0000\n")).date == datetime(2026, 11, 29, 6, tzinfo=UTC)


def test_a_header_the_default_policy_cannot_parse_is_read_as_compat32() -> None:
    parsed = parse(message("").replace(b"To: " + US.encode(), b'To: "unterminated <a@acme.co.kr>, b@acme.co.kr'))
    assert parsed.sender == "minsu.kim@acme.co.kr"
    assert isinstance(parsed.recipients, list)


def test_a_30_mb_message_parses_in_memory_proportional_to_its_size() -> None:
    # The pipeline refuses messages over its size limit before parsing; below it, parsing holds the raw
    # message, its decoded parts and the text, about ten times the raw size at the peak.
    blob = os.urandom(22 * 1024 * 1024)
    body = ("--B\nContent-Type: text/plain; charset=utf-8\n\n" + "A line of the log the customer pasted.\n" * 60000
            + "--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=dump.bin\n"
            "Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(blob).decode() + "--B--\n")
    raw = message("", body, 'multipart/mixed; boundary="B"')
    assert len(raw) > 30 * 1024 * 1024
    tracemalloc.start()
    try:
        parsed = parse(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert parsed.attachments[0].payload == blob
    assert parsed.new_text.startswith("A line of the log")
    assert peak < 15 * len(raw)


def assert_well_formed(parsed: Parsed) -> None:
    """What the pipeline relies on, whatever came in."""
    assert isinstance(parsed, Parsed)
    for value in (parsed.subject, parsed.sender_name, parsed.message_id):
        assert isinstance(value, str) and "\n" not in value and "\r" not in value
    assert parsed.sender == "" or "@" in parsed.sender
    assert all(isinstance(address, str) and "@" in address for address in parsed.recipients)
    assert parsed.date is None or parsed.date.tzinfo is not None
    assert isinstance(parsed.new_text, str) and isinstance(parsed.text, str) and isinstance(parsed.html, str)
    for item in parsed.attachments:
        assert 0 < len(item.filename) <= 200 and not set(item.filename) & {"/", "\\", "\n", "\x00"}
        assert isinstance(item.payload, bytes)
    if parsed.bounce is not None:
        assert parsed.bounce.permanent == any(status.startswith("5") for _a, status, _t in parsed.bounce.recipients)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4000))
def test_random_bytes_never_make_it_raise(raw: bytes) -> None:
    assert_well_formed(parse(raw))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray((CORPUS / draw(st.sampled_from(FILES))).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        at = draw(st.integers(0, max(len(raw) - 1, 0)))
        if operation == "flip" and raw:
            raw[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "truncate":
            del raw[at:]
        elif operation == "insert":
            raw[at:at] = draw(st.one_of(st.binary(min_size=1, max_size=40), st.sampled_from(
                [b"\n--", b"\r\n\r\n", b"=?utf-8?B?", b"Content-Type: multipart/mixed; boundary=x\n", b"\xff\xfe",
                 b"=\n", b"<", b"@", b"\x00", b"charset=x-unknown"])))
        elif raw:
            del raw[at:at + draw(st.integers(1, 200))]
    return bytes(raw)


@settings(max_examples=100, deadline=None)
@given(mutated())
def test_mutated_corpus_messages_never_make_it_raise(raw: bytes) -> None:
    assert_well_formed(parse(raw))


HEADERS = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
           "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Precedence", "List-Id",
           "X-Auto-Response-Suppress", "Delivered-To", "X-Original-To", "X-Failed-Recipients", "Return-Path"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(HEADERS), st.one_of(
    st.text(max_size=120), st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["=?utf-8?B?!!!?=", "=?x-unknown?Q?=FF?=", "<>", "<<a@b>>", "\"a\" <@>", "a@b, , ,",
                     "multipart/mixed; boundary=", "text/plain; charset=punycode", "=?utf-8?q?a?= =?euc-kr?b?x?=",
                     "Mon, 99 Foo 2026 25:61:61 +9999", "group:;", "undisclosed-recipients:;"]))), max_size=12),
       st.binary(max_size=300))
def test_random_header_values_never_make_it_raise(headers: list[tuple[str, str]], body: bytes) -> None:
    raw = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", errors="surrogateescape")
    assert_well_formed(parse(raw + b"\r\n" + body))
