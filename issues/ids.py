"""Reading an id that someone typed, pasted or edited: in a URL, a query string or a posted form.

Every id column is a 64-bit integer. An id is therefore ASCII digits (``str.isdigit`` also says yes to
'²', '٣' and '５', which ``int()`` or the database then refuse) naming a number from 1 to 2**63 - 1;
anything else names no row, so a page answers 404 or drops the filter instead of failing on the query.
"""

from __future__ import annotations

import re

from django.http import QueryDict
from django.urls import register_converter

LARGEST_ID = 2**63 - 1
# At most 19 digits: the largest id has 19, and int() never sees a string long enough to be slow.
ID_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)


def parse_id(value: object) -> int | None:
    """The id that `value` names, or None when it names none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and ID_DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= LARGEST_ID else None


def query_id(data: QueryDict, name: str) -> int | None:
    """The id in a query string or form parameter; None when it is missing or names no row."""
    return parse_id(data.get(name))


class IdConverter:
    """``<id:pk>`` in a URL: an address with an id that cannot exist does not match (a 404)."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(f"not an id: {value!r}")
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)


# Any URL module that imports this one may write <id:pk>.
register_converter(IdConverter, "id")
