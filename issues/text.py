"""What counts as empty, and what counts as one line: the rules for text people type.

A title of zero-width spaces or Hangul fillers looks empty on every screen and in every email, so it is
empty. The rule decides only two things — whether a text is empty, and what is trimmed at its ends —
and never touches the inside of a text with visible characters: a zero-width joiner inside a family
emoji, a variation selector after a heart or a joiner between Indic letters stay as typed.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Control and format characters and spaces of every kind draw nothing: zero-width space, joiners,
# word joiner, byte-order mark, soft hyphen, bidi embeddings, overrides and isolates, tags, line and
# paragraph separators, no-break and ideographic spaces.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Letters and marks by category that nevertheless draw nothing: the Hangul fillers (a favourite for
# "blank" names), the combining grapheme joiner, the Khmer inherent vowels and the braille blank.
INVISIBLE_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5\u2800")
VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
TAGS = ((0xE0020, 0xE007F),)  # spell a subdivision flag after the black flag emoji, ended by CANCEL TAG
ZERO_WIDTH_JOINER = "\u200d"
# Characters that break a line or control the terminal: never part of a name.
LINE_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# Bidi embeddings, overrides and isolates reorder the text after them: a name with one can make the
# rest of a line in a list or an email read backwards.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Runs of spaces and control characters in a one-line text become one space.
SPACE_RUN = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def _in(ranges: tuple[tuple[int, int], ...], character: str) -> bool:
    return any(low <= ord(character) <= high for low, high in ranges)


def is_invisible(character: str) -> bool:
    """Whether the character draws nothing on its own."""
    return (unicodedata.category(character) in INVISIBLE_CATEGORIES or character in INVISIBLE_CHARACTERS
            or _in(VARIATION_SELECTORS, character))


def attaches(character: str) -> bool:
    """Whether the character belongs to the visible one before it (an accent, an emoji's selector, joiner
    or tag), so trimming the end of a text keeps it."""
    return (unicodedata.category(character) in {"Mn", "Mc", "Me"} or character == ZERO_WIDTH_JOINER
            or _in(VARIATION_SELECTORS, character) or _in(TAGS, character))


def is_blank(text: str | None) -> bool:
    """Empty, or nothing but characters that draw nothing."""
    return all(is_invisible(character) for character in text or "")


def trim(text: str | None) -> str:
    """The text without what draws nothing at either end; what the last visible character carries stays."""
    text = text or ""
    start = next((index for index, character in enumerate(text) if not is_invisible(character)), None)
    if start is None:
        return ""
    end = next(index for index in range(len(text) - 1, start - 1, -1) if not is_invisible(text[index])) + 1
    while end < len(text) and attaches(text[end]):
        end += 1
    return text[start:end]


def one_line(text: str | None) -> str:
    """The text as one line: line breaks, tabs and other runs of space become one space, then trimmed."""
    return trim(SPACE_RUN.sub(" ", text or ""))


def validate_name(value: str) -> None:
    """A name is one line of visible text: refused with line breaks, tabs, NUL, other control characters
    or bidi overrides (which break email headers, CSV rows and the lists it is shown in), and refused
    when it draws nothing at all."""
    if any(unicodedata.category(c) in LINE_BREAKING_CATEGORIES or c in BIDI_CONTROLS for c in value):
        raise ValidationError(
            _("Write the name on one line, without line breaks, tabs or other control characters."),
            code="control_characters",
        )
    if is_blank(value):
        raise ValidationError(_("Write a name with at least one visible character."), code="blank")


def person_name(user) -> str:
    """How Inloop names a colleague everywhere (pages, timeline, CSV, email headers): their full name, else
    their username; "" for nobody. The one home of this rule: callers add their own word for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
