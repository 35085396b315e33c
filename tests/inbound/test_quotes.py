"""What is new in a customer's reply: the text above the quoted history, without the signature.

Each client writes its own header above what it quotes; Minsu (Gmail and Outlook in Korean, a Galaxy
phone), Jane (Gmail, Apple Mail, an iPhone) and Tom (Outlook) answer our status emails.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbound.htmltext import html_to_text, reply_text
from inbound.quotes import new_text

OURS = "Hello,\n\nWe deployed a fix for the export timeouts. Could you try again?\n\n--\nInloop support"


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


HISTORY = {
    "gmail": "On Sun, 29 Nov 2026 at 15:00, Inloop <support@inloop.localhost> wrote:\n\n" + quoted(OURS),
    "gmail, attribution wrapped": "On Sun, 29 Nov 2026 at 15:00, Inloop <\nsupport@inloop.localhost> wrote:\n\n"
                                  + quoted(OURS),
    "gmail in Korean": "2026년 11월 29일 (일) 오후 3:00, Inloop <support@inloop.localhost>님이 작성:\n\n" + quoted(OURS),
    "gmail in Korean, wrapped": "2026년 11월 29일 (일) 오후 3:00, Inloop <support@inloop.localhost>님이\n작성:\n"
                                + quoted(OURS),
    "gmail in Korean, older wording": "2026년 11월 29일 오후 3:00, Inloop <support@inloop.localhost>님이 "
                                      "작성하였습니다:\n" + quoted(OURS),
    "apple mail in Korean": "2026. 11. 29. 오후 3:00, Inloop <support@inloop.localhost> 작성:\n\n" + quoted(OURS),
    "thunderbird in Korean": "26. 11. 29. 오후 3:00에 Inloop 이(가) 쓴 글:\n" + quoted(OURS),
    "outlook": "-----Original Message-----\nFrom: Inloop <support@inloop.localhost>\n"
               "Sent: Sunday, November 29, 2026 3:00 PM\nTo: Tom Lee <tom.lee@acme-global.com>\n"
               "Subject: [ACME-42] Update\n\n" + OURS,
    "outlook without a separator": "From: Inloop <support@inloop.localhost>\nSent: Sunday, November 29, 2026 3:00 PM\n"
                                   "To: Tom Lee <tom.lee@acme-global.com>\nSubject: [ACME-42] Update\n\n" + OURS,
    "outlook on the web": "________________________________\nFrom: Inloop <support@inloop.localhost>\n"
                          "Sent: Sunday, November 29, 2026 3:00:00 PM\nSubject: [ACME-42] Update\n\n" + OURS,
    "outlook in Korean": "-----원본 메시지-----\n보낸 사람: Inloop <support@inloop.localhost>\n"
                         "보낸 날짜: 2026년 11월 29일 일요일 오후 3:00\n받는 사람: 이수진 <sujin.lee@acekorea.co.kr>\n"
                         "제목: [ACE-7] 진행 상황\n\n" + OURS,
    "outlook in Korean without a separator": "보낸 사람: Inloop <support@inloop.localhost>\n"
                                             "보낸 날짜: 2026년 11월 29일 일요일 오후 3:00\n제목: [ACE-7] 진행 상황\n\n" + OURS,
    "naver": "-----Original Message-----\n보낸사람: \"Inloop\" <support@inloop.localhost>\n"
             "받는사람: \"박서연\" <seoyeon_p@naver.com>\n날짜: 2026-11-29 (일) 15:00:00 (GMT+09:00)\n제목: 결제 오류\n\n" + OURS,
    "daum": "--------- 원본 메일 ---------\n보낸사람: Inloop <support@inloop.localhost>\n"
            "받는사람: 박지훈 <jihoon.park@daum.net>\n날짜: 26.11.29 15:00 GMT +0900\n제목: 동기화 지연\n\n" + OURS,
    "samsung email": "-------- 원본 이메일 --------\n발신: Inloop <support@inloop.localhost>\n"
                     "날짜: 26/11/29 오후 3:00 (GMT+09:00)\n수신: 김민수 <minsu.kim@acme.co.kr>\n제목: 원격 지원\n\n" + OURS,
    "apple mail on an iPhone": quoted("On 29 Nov 2026, at 15:00, Inloop <support@inloop.localhost> wrote:\n\n"
                                      + OURS),
    "thunderbird": "On 29/11/2026 15:00, Inloop wrote:\n" + quoted(OURS),
}
REPLIES = {
    "en": "Hi Mina,\n\nThe export finished in 12 seconds.\nYou can close the issue.",
    "ko": "최민아 매니저님,\n\n오늘 다시 확인해 보니 정상적으로 로그인됩니다.",
}


@pytest.mark.parametrize("client", sorted(HISTORY))
@pytest.mark.parametrize("language", sorted(REPLIES))
def test_it_keeps_the_reply_and_drops_the_history_each_client_quotes(client: str, language: str) -> None:
    reply = REPLIES[language]
    assert new_text(f"{reply}\n\n{HISTORY[client]}") == reply


@pytest.mark.parametrize(("signature", "kind"), [
    ("-- \nDaniel Yoon\nPlatform Engineering, Acme Global\nhttps://acme-global.com", "RFC 3676 delimiter"),
    ("Sent from my iPhone", "iPhone"),
    ("Galaxy에서 보냄", "Samsung Galaxy"),
    ("내 iPhone에서 보냄", "iPhone in Korean"),
    ("Get Outlook for iOS<https://aka.ms/o0ukef>", "Outlook mobile"),
    ("iOS용 Outlook 받기", "Outlook mobile in Korean"),
    ("Best regards,\nTom Lee\nHead of Finance Systems | Acme Global\n+82 2 555 0100", "sign-off and a card"),
    ("감사합니다.\n이수진 드림\n\n이수진 / 정보보안팀\n에이스코리아 | 02-555-0199", "Korean sign-off and a card"),
    ("Thanks\nTom\n\nGet Outlook for iOS", "sign-off above mobile boilerplate"),
])
def test_it_drops_the_signature_below_the_reply(signature: str, kind: str) -> None:
    reply = "Hi Mina,\n\nThe export finished in 12 seconds."
    assert new_text(f"{reply}\n\n{signature}\n\n{HISTORY['gmail']}") == reply, kind


@pytest.mark.parametrize("text", [
    "Thanks!",  # a sign-off alone is the whole message, not a signature
    "Hi,\n\nThanks, that fixed it.\nBut the March export still fails.",  # "Thanks," starting a sentence
    "Steps:\n- open the report\n- press Export\n- wait 30 seconds",  # a list is no signature
    "The log says:\n\n    ERROR sync.worker: upstream closed connection (code 104)\n\nPlease look.",  # indentation kept
    "Thanks,\n" + "\n".join(f"Step {n}: this line is part of the message, not a signature." for n in range(8)),
    "From: the finance team's point of view, the export is too slow.",  # a From: line alone is no header
])
def test_it_leaves_a_message_without_history_or_signature_as_it_is(text: str) -> None:
    assert new_text(text) == text


def test_a_long_reply_is_kept_whole() -> None:
    # quotequail on its own treats every line after the 1000th as quoted.
    text = "\n".join(f"{n:04d} INFO sync.worker: batch done" for n in range(1500))
    assert new_text(text) == text


def test_an_answer_written_below_the_quote_is_found() -> None:
    text = f"On 29/11/2026 15:00, Inloop wrote:\n{quoted(OURS)}\n\nYes, it works now.\n\n-- \nDaniel"
    assert new_text(text) == "Yes, it works now."


def test_a_forward_with_nothing_written_above_it_has_no_new_text() -> None:
    assert new_text(HISTORY["outlook"]) == ""


def test_quoted_lines_between_answers_are_dropped() -> None:
    text = "> Could you try the March report?\nYes, it finished in 12 seconds.\n> And the April one?\nStill slow."
    assert new_text(text) == "Yes, it finished in 12 seconds.\nStill slow."


GMAIL_HTML = (
    '<div dir="ltr">Hi Mina,<div><br></div><div>It only happens in the <b>Busan</b> office.</div>'
    '</div><br><div class="gmail_quote"><div dir="ltr" '
    'class="gmail_attr">2026年11月29日(日) 15:00 Inloop &lt;support@inloop.localhost&gt;:<br></div>'
    '<blockquote class="gmail_quote">Hello Jane,<br>We have received your issue.</blockquote></div>')
OUTLOOK_HTML = (
    '<html><body><div>담당자님,<br><br>같은 증상이 모바일 앱에서도 발생합니다.<br><br>감사합니다.<br>정하늘 드림</div>'
    '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>보낸 사람:</b> Inloop<br><b>제목:</b> [ACE-9]</div>'
    '<div>정하늘님, 안녕하세요.</div></body></html>')
OUTLOOK_DESKTOP_HTML = (
    "<div class=WordSection1><p class=MsoNormal>Hi Mina,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
    "<p class=MsoNormal>The job stopped at 02:14.</p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt;"
    "padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>From:</b> Inloop<br><b>Sent:</b> Sunday</p></div></div>"
    "<p class=MsoNormal>Hello Daniel,</p></div>")
THUNDERBIRD_HTML = (
    '<p>Confirmed, thank you.</p><div class="moz-signature">-- <br>Daniel</div>'
    '<div class="moz-cite-prefix">On 29/11/2026 15:00, Inloop wrote:<br></div>'
    '<blockquote type="cite">Hello</blockquote>')


@pytest.mark.parametrize(("html", "expected"), [
    (GMAIL_HTML, "Hi Mina,\n\nIt only happens in the Busan office."),
    (OUTLOOK_HTML, "담당자님,\n\n같은 증상이 모바일 앱에서도 발생합니다."),
    (OUTLOOK_DESKTOP_HTML, "Hi Mina,\n\nThe job stopped at 02:14."),
    (THUNDERBIRD_HTML, "Confirmed, thank you."),
])
def test_an_html_only_reply_is_cut_where_the_client_marked_the_quote(html: str, expected: str) -> None:
    assert new_text("", html) == expected


@pytest.mark.parametrize("markup", [
    '<div class="gmail_quote">Le dim. 29 nov. 2026, Inloop a écrit<blockquote>Old text</blockquote></div>',
    '<div class="gmail_quote gmail_quote_container"><div class="gmail_attr">Inloop</div>Old text</div>',
    '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg">Inloop, 29.11.</div><div>Old text</div>',
    '<div id="divRplyFwdMsg"><b>Von:</b> Inloop</div><div>Old text</div>',
    "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>Von: Inloop</div></div>"
    "<p>Old text</p>",
    "<div style='border:none; border-top:solid #B5C4DF 1.0pt'>Inloop</div><p>Old text</p>",
    '<div class="moz-cite-prefix">Inloop schrieb:</div><blockquote type="cite">Old text</blockquote>',
    '<blockquote type="cite"><div>Old text</div></blockquote><div>Old text</div>',
    '<div class="yahoo_quoted">Inloop<div>Old text</div></div>',
])
def test_each_client_s_quote_markup_cuts_the_html_there(markup: str) -> None:
    html = f'<html><body><div>New text<br>on two lines</div>{markup}<div>Old text</div></body></html>'
    assert reply_text(html) == "New text\non two lines"


@pytest.mark.parametrize("markup", ['<div class="gmail_signature">Jane Park</div>',
                                    '<div class="moz-signature">-- <br>Daniel</div>',
                                    '<div id="ms-outlook-mobile-signature">Get Outlook for iOS</div>'])
def test_a_marked_up_signature_is_dropped(markup: str) -> None:
    assert reply_text(f"<p>New text</p>{markup}<p>More new text</p>") == "New text\nMore new text"


def test_the_html_marks_the_quote_when_the_text_of_an_unknown_language_does_not() -> None:
    # Gmail in Japanese: no text pattern knows its attribution line, the HTML still marks the quote.
    text = ("Hi Mina,\n\nIt only happens in the Busan office.\n\n"
            "2026年11月29日(日) 15:00 Inloop <support@inloop.localhost>:\n\n> Hello Jane,")
    assert "2026年11月29日" in new_text(text)  # the text alone shows no quote header ...
    assert new_text(text, GMAIL_HTML) == "Hi Mina,\n\nIt only happens in the Busan office."  # ... the HTML does


def test_html_turns_into_the_text_a_reader_sees() -> None:
    html = ("<html><head><style>p {color: red}</style><script>alert(1)</script></head><body>"
            "<p>First&nbsp;line</p><p>Second   line<br>third line</p><ul><li>one</li><li>two</li></ul>"
            "<blockquote>quoted<br>twice</blockquote><pre>  keep   this</pre></body></html>")
    assert html_to_text(html) == ("First line\nSecond line\nthird line\n- one\n- two\n> quoted\n> twice\n"
                                  "  keep   this")


@pytest.mark.parametrize("text", [
    "On " + "a " * 20000 + "\n",  # mail-parser-reply's "wrote:" pattern backtracks for 18 s on this
    "> " * 5000 + "a\n" * 100,
    ("From: a\nSent: b\n" * 2000) + ("x" * 50 + "\n") * 2000,
    "2026년 11월 29일 " + "가" * 50000 + "\n님이\n작성:",
    "-" * 100000 + " 원본 메시지 " + "-" * 100000,
    "line\n" * 300000,
])
def test_hostile_text_is_handled_in_linear_time(text: str) -> None:
    started = time.monotonic()
    result = new_text(text)
    assert time.monotonic() - started < 5
    assert len(result) <= len(text)


MARKER_LINES = [
    "On Sun, 29 Nov 2026 at 15:00, Inloop <support@inloop.localhost> wrote:", "-----Original Message-----",
    "-----원본 메시지-----", "보낸 사람: Inloop", "받는 사람: 김민수", "From: Inloop", "Sent: Sunday", "> quoted",
    "-- ", "Sent from my iPhone", "Galaxy에서 보냄", "Best regards,", "감사합니다.", "2026년 11월 29일 (일) 오후 3:00,",
    "Inloop <support@inloop.localhost>님이 작성:", "________________________________", "", "  indented",
]
LINES = st.lists(st.one_of(st.sampled_from(MARKER_LINES), st.text(max_size=40)), max_size=40)


def is_subsequence(short: list[str], long: list[str]) -> bool:
    remaining = iter(long)
    return all(any(line == candidate for candidate in remaining) for line in short)


@settings(max_examples=100, deadline=None)
@given(LINES)
def test_it_only_ever_removes_lines_and_never_raises(lines: list[str]) -> None:
    text = "\n".join(lines)
    result = new_text(text)
    original = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    assert is_subsequence(result.split("\n"), original) if result else True


BLOCKS = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20).map(lambda s: f"<div>{s}</div>"),
    st.sampled_from(['<div class="gmail_quote">old</div>', '<div id="divRplyFwdMsg">From: x</div>', "<br>",
                     '<blockquote type="cite">cited</blockquote>', "<p>Sent from my iPhone</p>",
                     '<div class="gmail_signature">Jane</div>', "<hr>", "<p>감사합니다.</p>"]),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(BLOCKS, max_size=20))
def test_it_never_invents_words_from_html(blocks: list[str]) -> None:
    html = "".join(blocks)
    words = set(html_to_text(html).split())
    assert set(new_text("", html).split()) <= words
