"""Our CSP forbids inline scripts: no template may carry an inline event handler (use data- attributes,
handled once in static/js/inloop.js)."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_an_inline_event_handler():
    files = list(TEMPLATES.rglob("*.html"))
    offenders = [f"{path.relative_to(TEMPLATES)}:{number}"
                 for path in files for number, line in enumerate(path.read_text().splitlines(), 1)
                 if INLINE_HANDLER.search(line)]

    assert len(files) > 40  # the walk really read the templates
    assert offenders == []
