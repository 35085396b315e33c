"""Reading the parts of a parsed message that the email package leaves to us: charsets, header values,
addresses, message ids and file names.

Everything here takes what strangers send and must not raise: a wrong charset label, raw 8-bit bytes in
a header, an encoded word that does not decode. Each reader falls back to something readable and, where
it is worth recording, says what was wrong in ``notes``.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from email.header import decode_header
from email.message import Message
from email.policy import default as default_policy
from email.utils import collapse_rfc2231_value, getaddresses

# Outlook labels Korean mail "ks_c_5601-1987" and means Windows code page 949, a superset of EUC-KR that
# Python's "euc_kr" codec (what those labels map to) rejects for some syllables.
KOREAN = {"euc_kr", "ks_c_5601-1987", "ks_c_5601", "ksc5601", "korean", "windows-949", "x-windows-949", "uhc",
          "cp949", "ms949"}
# Codecs that exist in Python but are no text charset a mail client uses; some are slow on big input
# (punycode is quadratic), so a label naming them is treated as unknown.
NOT_MAIL_CHARSETS = {"punycode", "idna", "undefined", "unicode_escape", "raw_unicode_escape", "mbcs", "oem",
                     "palmos"}
# What a label promises is often wrong: 8-bit bytes under "us-ascii", EUC-KR under "x-unknown".
FALLBACKS = ("utf-8", "cp949")
# Header values longer than this are cut before parsing: no real header is that long, and the address
# parser's cost grows with the length.
HEADER_LIMIT = 64 * 1024
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ANGLE_IDS = re.compile(r"<([^<>]*)>")
ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
ADJACENT_WORDS = re.compile(r"(\?=)\s+(=\?)")
ADDRESS_LIMIT = 320


def decode_bytes(data: bytes, charset: str | None, notes: list[str]) -> str:
    """Bytes of a body or a header in the charset they claim; else UTF-8, else CP949 (Korean), else
    UTF-8 with replacement characters. Never raises."""
    codec, known = _codec(charset)
    if not known:
        _note(notes, f"unknown charset {one_line(charset or '')[:40]!r}")
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError, ValueError):
            pass
    for name in FALLBACKS:
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _codec(charset: str | None) -> tuple[str | None, bool]:
    """The codec to try first, and whether the label named a charset at all."""
    label = (charset or "").strip().strip("\"'").lower()
    if not label:
        return None, True
    if label in KOREAN:
        return "cp949", True
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None, False
    if name in NOT_MAIL_CHARSETS:
        return None, False
    if name == "euc_kr":
        return "cp949", True
    # "ascii" promises 7 bits: if 8-bit bytes came anyway, the fallbacks read them.
    return (None if name == "ascii" else name), True


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


def one_line(text: str) -> str:
    """Whitespace and control characters (line breaks included) collapsed to single spaces."""
    return " ".join(CONTROL.sub(" ", text).split())


def raw_values(message: Message, name: str, notes: list[str] | None = None) -> list[str]:
    """Every raw value of a header, with raw 8-bit bytes (kept by the parser as surrogates) decoded as
    UTF-8 or CP949. Reads the parser's raw pairs, so a header the default policy cannot parse is still
    read."""
    name = name.lower()
    values = []
    for key, value in _raw_items(message):
        if str(key).lower() == name:
            value = str(value)[:HEADER_LIMIT]
            decoded = _unsurrogate(value)
            if decoded is not value and notes is not None:
                _note(notes, f"raw 8-bit bytes in {name}")
            values.append(decoded)
    return values


def _raw_items(message: Message) -> list[tuple[str, str]]:
    try:
        return list(message.raw_items())
    except AttributeError:  # a compat32 Message has no raw_items; its items are raw already
        return list(message._headers)  # noqa: SLF001 - the same raw pairs, under compat32


def _unsurrogate(value: str) -> str:
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    return decode_bytes(value.encode("utf-8", errors="surrogateescape"), None, [])


def header_text(message: Message, name: str, notes: list[str]) -> str:
    """A header's first value, RFC 2047 encoded words decoded, on one line; "" if missing."""
    values = raw_values(message, name, notes)
    return decode_words(values[0], notes) if values else ""


def decode_words(value: str, notes: list[str]) -> str:
    """RFC 2047 encoded words decoded by the email package (compat32's decoder) with our charset
    fallbacks, on one line."""
    value = " ".join(value.split())
    if "=?" not in value:
        return one_line(value)
    if not value.isascii():
        # Raw 8-bit text beside encoded words: the decoder would escape the raw text, so decode each
        # word on its own (whitespace between two words is not text, RFC 2047 6.2).
        value = ADJACENT_WORDS.sub(r"\1\2", value)
        return one_line(ENCODED_WORD.sub(lambda match: _decode_ascii(match.group(0), notes), value))
    return one_line(_decode_ascii(value, notes))


def _decode_ascii(value: str, notes: list[str]) -> str:
    try:
        chunks = decode_header(value)
    except Exception:  # noqa: BLE001 - a broken encoded word: keep the text as it came
        _note(notes, "undecodable encoded word in a header")
        return value
    return "".join(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset, notes)
                   for chunk, charset in chunks)


def addresses(message: Message, names: tuple[str, ...], notes: list[str]) -> list[tuple[str, str]]:
    """(display name, normalised address) of every mailbox in the named headers, in order; groups are
    flattened and values that are no address are skipped."""
    found = []
    for name in names:
        for value in raw_values(message, name, notes):
            for display, address in _parse_addresses(name, value, notes):
                if address := normal_address(address):
                    found.append((decode_words(_unsurrogate(display), notes), address))
    return found


def _parse_addresses(name: str, value: str, notes: list[str]) -> list[tuple[str, str]]:
    value = " ".join(value.split())
    try:
        # Parsed as a "To" header whatever its name: Delivered-To and the like are address lists too,
        # but the default policy only knows the standard names as such.
        header = default_policy.header_factory("to", value)
        parsed = [(item.display_name, item.addr_spec) for item in header.addresses]
    except Exception:  # noqa: BLE001 - the default policy gave up on this header: read it as compat32 does
        _note(notes, f"{name}: unparseable under the default policy, read as compat32")
        parsed = []
    if parsed:
        return parsed
    try:
        return [(display, address) for display, address in getaddresses([value]) if address]
    except Exception:  # noqa: BLE001
        return []


def normal_address(address: str) -> str:
    """Lowercased, IDN domain decoded to Unicode; "" if it is not a plausible address."""
    address = address.strip().strip("<>").strip().lower()
    local, at, domain = address.rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or not domain or len(address) > ADDRESS_LIMIT:
        return ""
    if any(char.isspace() or unicodedata.category(char)[0] == "C" for char in address):
        return ""
    return f"{local}@{_unicode_domain(domain)}"


def _unicode_domain(domain: str) -> str:
    if "xn--" not in domain:
        return domain
    labels = []
    for label in domain.split("."):
        try:
            labels.append(label.encode("ascii").decode("idna") if label.startswith("xn--") else label)
        except (UnicodeError, ValueError):
            labels.append(label)  # not valid punycode: keep what was written
    return ".".join(labels)


def message_ids(value: str) -> list[str]:
    """Ids without <>, in order, each once. Ids written without brackets (some clients do) count when
    they look like one (contain an @)."""
    value = one_line(value)
    found = [one_line(item).replace(" ", "") for item in ANGLE_IDS.findall(value)]
    if not found:
        found = [token.strip("<>") for token in re.split(r"[\s,]+", value) if "@" in token]
    return list(dict.fromkeys(item[:998] for item in found if item))


def filename(part: Message, notes: list[str]) -> str:
    """The attachment's name without any path or control characters, at most 200 characters;
    "attachment" when it has none."""
    try:
        name = part.get_filename() or collapse_rfc2231_value(part.get_param("name") or "")
    except Exception:  # noqa: BLE001 - broken RFC 2231 parameters
        _note(notes, "unreadable attachment name")
        name = ""
    return clean_filename(decode_words(_unsurrogate(str(name)), notes) if "=?" in str(name) else str(name))


def clean_filename(name: str) -> str:
    name = _unsurrogate(name)
    name = re.split(r"[\\/]", name)[-1]
    # Format characters (Cf) include the right-to-left override that makes "gnp.exe" look like "exe.png".
    name = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[:199 - len(extension)]}.{extension}" if dot and 0 < len(extension) <= 10 else name[:200]
    return name or "attachment"
