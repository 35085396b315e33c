"""The new part of a reply: the text above the quoted history, without the signature.

quotequail finds the English (and most European) reply headers — "On … wrote:", "-----Original
Message-----", Outlook's line of underscores — and keeps the text it returns byte for byte. It knows no
Korean client and strips no signature, so this module adds the patterns our customers' clients write
(Gmail's "…님이 작성:", Outlook's "-----원본 메시지-----" and 보낸 사람:/받는 사람: block, Naver's and
Daum's header blocks, Samsung's "원본 이메일" with 발신:/수신:) and its own signature rules. The cut is
at the earliest marker either finds.

``new_text`` only ever removes: every line it returns is a line of its input (right-stripped), in the
same order. It never raises; on a bug it returns its input.
"""

from __future__ import annotations

import logging
import re

import quotequail

from inbound.htmltext import has_quote_markup, reply_text

log = logging.getLogger(__name__)

# The new part of a reply is at the top: markers are looked for in this much of the text only, so a
# 30 MB body costs no more than a small one.
SCAN_LINES = 2000
SCAN_CHARS = 200_000
# A line longer than this is no reply header, whatever it contains.
HEADER_LINE_MAX = 400

SEPARATOR = re.compile(
    r"^-{2,}\s*(원본\s*메시지|원본\s*메일|원본\s*이메일|전달된\s*메시지|전달된\s*메일|전달\s*메일|"
    r"original\s+message|forwarded\s+message)\s*-{2,}$", re.IGNORECASE)
RULE = re.compile(r"^(_{20,}|-{20,})$")
# Gmail "2026년 11월 29일 (일) 오후 3:00, X <x@y>님이 작성:", Apple Mail "2026. 11. 29. 오후 3:00, X 작성:",
# Thunderbird "26. 11. 29. 오후 3:00에 X 이(가) 쓴 글:". The line must contain a digit (the date).
KOREAN_ATTRIBUTION = re.compile(
    r"^(?=[^\n]*\d)[^\n]{0,300}(님이\s*작성(하였습니다|했습니다)?|님이\s*쓴\s*글|이\(가\)\s*쓴\s*글|\s작성)\s*:$")
FROM_LABEL = re.compile(r"^\*?(from|보낸\s*사람|발신|발신인)\*?\s*:", re.IGNORECASE)
HEADER_LABEL = re.compile(
    r"^\*?(sent|date|to|cc|subject|보낸\s*날짜|받는\s*사람|참조|제목|날짜|수신|수신인)\*?\s*:", re.IGNORECASE)

# Signatures. A "-- " line (RFC 3676) or mobile boilerplate, with little below it; a sign-off line
# ("Best regards,") followed only by a few short lines (name, title, phone) up to the end.
DELIMITER = re.compile(r"^(--|-- |__|—)$")
MOBILE = re.compile(
    r"^(sent (from|via) (my )?[\w .'&()-]{1,40}|get outlook for (ios|android)\s*(<[^>]*>)?|"
    r"(ios|android)용 outlook 받기\s*(<[^>]*>)?|.{1,30}에서 보냄)$", re.IGNORECASE)
SIGN_OFF = re.compile(
    r"^((best|kind|warm|warmest|many)\s+)?(regards|wishes|thanks)[,.!]?$|^best[,.!]?$|^cheers[,.!]?$|"
    r"^thank\s+you(\s+(very|so)\s+much)?[,.!]?$|^thanks(\s+(again|a lot|so much))?[,.!]?$|"
    r"^(yours\s+)?(sincerely|truly)[,.!]?$|^(감사합니다|고맙습니다|감사드립니다|수고하세요|수고하십시오)[.!~]*$",
    re.IGNORECASE)
SIGNATURE_MAX_LINES = 12
SIGN_OFF_MAX_LINES = 6
SIGN_OFF_LINE_MAX = 80


def new_text(text: str, html: str = "") -> str:
    """The new part of a reply. Uses ``text`` (the text/plain part); ``html`` when there is no text, or
    when the text shows no quoted history but the HTML marks some."""
    try:
        return _new_text(text, html)
    except Exception:  # noqa: BLE001 - the timeline is better served by the whole text than by nothing
        log.exception("inbound: could not separate the new text of a reply")
        return text.strip()


def _new_text(text: str, html: str) -> str:
    if text.strip():
        reply, found = _reply(text)
        if not found and html and has_quote_markup(html):
            return _reply(reply_text(html))[0]
        return reply
    return _reply(reply_text(html))[0] if html else ""


def _reply(text: str, *, depth: int = 0) -> tuple[str, bool]:
    """(the reply, whether quoted history was found)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    start = quote_start(lines)
    body = lines if start is None else lines[:start]
    if start is not None and not any(line.strip() for line in body):
        # Nothing above the quote: the answer may be below it (bottom posting).
        below = _below_quote(lines, start)
        return (_reply("\n".join(below), depth=1)[0] if below and depth == 0 else ""), True
    body = [line for line in body if not line.lstrip().startswith(">")]
    return "\n".join(strip_signature(body)).strip("\n"), start is not None


def quote_start(lines: list[str]) -> int | None:
    """The index of the first line of quoted history (its header or separator), or None."""
    head = _head(lines)
    found = [index for index in (_quotequail_start(head), _our_start(head)) if index is not None]
    return min(found) if found else None


def _head(lines: list[str]) -> list[str]:
    size, head = 0, []
    for line in lines[:SCAN_LINES]:
        size += len(line) + 1
        if size > SCAN_CHARS:
            break
        head.append(line)
    return head


def _quotequail_start(head: list[str]) -> int | None:
    # limit past the end: quotequail otherwise treats everything after line 1000 as quoted.
    parts = quotequail.quote("\n".join(head), limit=len(head) + 1, quote_intro_line=True)
    if len(parts) < 2:
        return None
    top = parts[0][1]
    return top.count("\n") + 1 if top else 0


def _our_start(head: list[str]) -> int | None:
    for index, line in enumerate(head):
        bare = _unquoted(line)
        if not bare or len(bare) > HEADER_LINE_MAX:
            continue
        if SEPARATOR.match(bare) or _korean_attribution(head, index):
            return index
        if FROM_LABEL.match(bare) and _header_block(head, index):
            above = _unquoted(head[index - 1]) if index else ""
            return index - 1 if above and (RULE.match(above) or SEPARATOR.match(above)) else index
    return None


def _unquoted(line: str) -> str:
    return re.sub(r"^(\s*>)+", "", line).strip()


def _korean_attribution(head: list[str], index: int) -> bool:
    # Gmail wraps a long attribution line in text/plain: try it joined with the next one or two. It
    # starts with the date.
    if not _unquoted(head[index])[:1].isdigit():
        return False
    joined = ""
    for line in head[index:index + 3]:
        if not _unquoted(line):
            return False
        joined = f"{joined} {_unquoted(line)}".strip()
        if len(joined) > HEADER_LINE_MAX:
            return False
        if KOREAN_ATTRIBUTION.match(joined):
            return True
    return False


def _header_block(head: list[str], index: int) -> bool:
    """A From: line followed (within four lines) by another header of a quoted message."""
    return any(HEADER_LABEL.match(_unquoted(line)) for line in head[index + 1:index + 5])


def _below_quote(lines: list[str], start: int) -> list[str]:
    """The lines after a "> "-quoted block that follows the header at ``start``; [] when the quoted
    history is not "> "-quoted (Outlook's: then there is no telling where it ends)."""
    index = start + 1
    while index < len(lines) and index <= start + 3 and not lines[index].lstrip().startswith(">"):
        if lines[index].strip() and index > start + 1:
            return []
        index += 1
    if index >= len(lines) or not lines[index].lstrip().startswith(">"):
        return []
    while index < len(lines) and (lines[index].lstrip().startswith(">") or not lines[index].strip()):
        index += 1
    return lines[index:]


def strip_signature(lines: list[str]) -> list[str]:
    """Without a trailing signature: a "-- " block, mobile boilerplate, a sign-off with a name below."""
    for _ in range(3):
        before = len(lines)
        lines = _trim(lines)
        lines = _cut(lines, _delimiter_at(lines))
        lines = _cut(lines, _mobile_at(lines))
        lines = _cut(lines, _sign_off_at(lines))
        if len(lines) == before:
            break
    return _trim(lines)


def _trim(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _cut(lines: list[str], index: int | None) -> list[str]:
    return lines if index is None else lines[:index]


def _filled_after(lines: list[str], index: int) -> list[str]:
    return [line for line in lines[index + 1:] if line.strip()]


def _delimiter_at(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if DELIMITER.match(line) and len(_filled_after(lines, index)) <= SIGNATURE_MAX_LINES:
            return index
    return None


def _mobile_at(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        bare = line.strip()
        if len(bare) <= 80 and MOBILE.match(bare) and len(_filled_after(lines, index)) <= 3:
            return index
    return None


def _sign_off_at(lines: list[str]) -> int | None:
    for index in range(len(lines) - 1, -1, -1):
        bare = lines[index].strip()
        if len(bare) > 40 or not SIGN_OFF.match(bare):
            continue
        below = _filled_after(lines, index)
        above = [line for line in lines[:index] if line.strip()]
        if above and len(below) <= SIGN_OFF_MAX_LINES and all(len(line) <= SIGN_OFF_LINE_MAX for line in below):
            return index
        return None
    return None
