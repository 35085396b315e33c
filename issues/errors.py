"""Why a page is not shown, in words for the person who asked for it.

An error page shows the text of its exception only when it is a ``Reason``: Django's own messages (a
resolver's dictionary, "No Issue matches the given query.") are English and written for developers."""

from __future__ import annotations

from typing import Self

from django.utils.functional import Promise


class Reason(str):
    """A translated, plain-language reason an error page may show (``raise Http404(Reason(_("…")))``)."""

    def __new__(cls, text: str | Promise) -> Self:
        return super().__new__(cls, str(text))
