"""The CSV exports open safely in a spreadsheet whose list separator is `;` as well as `,`.

Excel in much of Europe (and any spreadsheet set up that way) splits a line on `;`; ours writes `,` and
quotes only cells that contain one. A title like `x;=1+1` is then two cells there, and the second runs as
a formula. Whatever separator the spreadsheet splits on, no piece of a cell may start with a formula.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from issues.reporting.exports import excel_safe
from issues.scan import scan_sla
from tests.factories import make_issue

SEOUL = ZoneInfo("Asia/Seoul")
TRIGGERS = ("=", "+", "-", "@", "＝", "＋", "－", "＠")
SEPARATORS = re.compile(r"[;,\t\r\n]")
# What a spreadsheet may skip before it looks at a cell's first character: spaces (trimmed on import)
# and the quote that opens a quoted field.
SKIPPED = " \u00a0\u3000\"\t\r\n"

hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(list(";,\t\r\n =+-@'\"＝＋－＠|!A1")), st.characters()), max_size=40)


def runs_as_formula(piece: str) -> bool:
    return piece.lstrip(SKIPPED).startswith(TRIGGERS)


@settings(max_examples=100, deadline=None)
@given(hostile_text)
@example("x;=1+1")
@example("x,=1+1")
@example('Refund; "=HYPERLINK(""http://evil"")"')
@example("ok;\t@SUM(A1)")
@example(" =1+1")
def test_no_piece_of_a_cell_runs_as_a_formula_whatever_the_separator(text):
    safe = excel_safe(text)

    pieces = SEPARATORS.split(safe)
    assert len(pieces) >= 1
    assert not any(runs_as_formula(piece) for piece in pieces)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    # Only apostrophes were added: what people wrote is all still there, in order.
    assert safe.replace("'", "") == text.replace("'", "")


def test_a_title_with_a_formula_after_a_semicolon_is_text_in_the_breach_csv(client, team, customer, lead, manager):
    make_issue(customer=customer, at=datetime(2025, 3, 10, 9, tzinfo=SEOUL), severity="red", owner=manager,
               title="x;=1+1")
    scan_sla(now=datetime(2025, 3, 10, 11, tzinfo=SEOUL))
    client.force_login(lead)

    response = client.get(reverse("dashboard_breaches_csv"), {"first": "2025-03-10", "last": "2025-03-10"})

    line = b"".join(response.streaming_content).decode("utf-8").splitlines()[1]
    cells = line.split(";")  # as a spreadsheet whose list separator is ";" reads it
    assert len(cells) == 2
    assert not any(runs_as_formula(cell) for cell in cells)
    assert "x;'=1+1" in line
    for harmless in ("Invoices export times out", "Acme; Berlin office", "3, 4 and 5", "e-mail bounced", ""):
        assert excel_safe(harmless) == harmless
