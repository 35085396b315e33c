"""What goes into an email's address headers and envelope: one address, one line.

Names and addresses come from people (contacts typed in the admin, staff profiles) and may carry anything:
line breaks that would start a new header, an internationalised domain, a second "@". Delivery reads every
address through ``mailbox()`` and every name through ``single_line()``; what cannot go out raises
``Undeliverable``, which fails that one email, with the reason, and never the batch around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import _header_value_parser as parser
from email import errors
from email.headerregistry import Address

# Anything a mail client might treat as a line break, and every other control character (C0, DEL, C1).
LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x00-\x1f\x7f-\x9f]+")


class Undeliverable(ValueError):
    """This email can never go out as it is (its address, its size): retrying would fail the same way."""


def single_line(text: str, limit: int = 250) -> str:
    """Header values are one line whatever a title or a name contains: no header injection."""
    text = " ".join(LINE_BREAKS.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Mailbox:
    """One recipient address, its domain in ASCII (IDNA "xn--" labels) as every relay and DNS accept it."""

    local_part: str
    domain: str

    @property
    def addr_spec(self) -> str:
        return Address(username=self.local_part, domain=self.domain).addr_spec

    @property
    def needs_smtputf8(self) -> bool:
        """A non-ASCII local part has no ASCII form: only a relay offering SMTPUTF8 (RFC 6531) can carry it."""
        return not self.local_part.isascii()


def mailbox(text: str) -> Mailbox:
    """The one address in `text`, or Undeliverable saying why not. Python's own RFC 5322 parser decides
    what an address is; we only refuse control characters outright, allow a non-ASCII local part (which
    the parser flags but SMTPUTF8 carries), and turn the domain into its IDNA form."""
    if not text.strip():
        raise Undeliverable("the address is empty")
    if LINE_BREAKS.search(text):
        raise Undeliverable(f"the address {text!r} contains a line break or a control character")
    try:
        spec, rest = parser.get_addr_spec(text.strip())
    except errors.HeaderParseError as error:
        raise Undeliverable(f"{text!r} is not an email address ({error})") from error
    except IndexError as error:  # the parser ran off the end: "a@"
        raise Undeliverable(f"{text!r} is not a complete email address") from error
    defects = [defect for defect in spec.all_defects if not isinstance(defect, errors.NonASCIILocalPartDefect)]
    if rest or defects or not spec.local_part or not spec.domain:
        reason = f"only {str(spec).strip()!r} is an address" if rest else (defects[0] if defects else "incomplete")
        raise Undeliverable(f"{text!r} is not one email address ({reason})")
    try:
        domain = spec.domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise Undeliverable(f"the domain of the address {text!r} cannot be written in IDNA ({error})") from error
    return Mailbox(local_part=spec.local_part, domain=domain)
