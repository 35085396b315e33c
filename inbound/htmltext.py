"""HTML mail as plain text, and the HTML a client wrapped around the quoted history.

Mail clients mark quoted history in HTML more reliably than in text: Gmail's ``div.gmail_quote``,
Outlook's ``#divRplyFwdMsg``/``#appendonsend`` and its ``border-top`` separator, Thunderbird's and Apple
Mail's ``blockquote type=cite``, Yahoo's ``yahoo_quoted``. ``reply_text`` cuts the document at the first
of them, in document order, before turning it into text.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

BLOCKS = {"address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset", "figure",
          "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
          "pre", "section", "table", "tbody", "td", "th", "thead", "tfoot", "tr", "ul"}
SKIP = {"head", "script", "style", "title", "noscript", "template", "object", "iframe", "svg", "math"}
QUOTE_MARKERS = ("gmail_quote", "divRplyFwdMsg", "appendonsend", "type=\"cite\"", "type=cite", "moz-cite-prefix",
                 "yahoo_quoted", "border-top:solid", "border-top: solid")
# Where the quoted history starts, by client. The first match in document order wins.
QUOTE_XPATH = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote_container ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')"
    " or @id='divRplyFwdMsg' or @id='appendonsend' or (local-name()='blockquote' and @type='cite')]"
)
SIGNATURE_XPATH = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_signature ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' moz-signature ')"
    " or @id='ms-outlook-mobile-signature' or @id='Signature']"
)
# Outlook's separator above the quoted header block: a div with a grey top border.
OUTLOOK_BORDER = re.compile(r"border-top:\s*solid\s*#(e1e1e1|b5c4df)", re.IGNORECASE)
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_DEPTH = 200


def has_quote_markup(html: str) -> bool:
    return any(marker in html for marker in QUOTE_MARKERS)


def html_to_text(html: str) -> str:
    """The text a reader sees: blocks and <br> become line breaks, blockquotes are quoted with "> "."""
    tree = _tree(html)
    return "" if tree is None else _render(tree)


def reply_text(html: str) -> str:
    """The text of the HTML above the quoted history, without the marked-up signature."""
    tree = _tree(html)
    if tree is None:
        return ""
    for element in tree.xpath(SIGNATURE_XPATH):
        if element.getparent() is not None:
            element.drop_tree()
    if (start := _first_quote(tree)) is not None:
        _cut_from(start)
    return _render(tree)


def _tree(html: str) -> etree._Element | None:
    if not html.strip():
        return None
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return lxml_html.document_fromstring(ILLEGAL.sub("", html).encode("utf-8", errors="replace"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _first_quote(tree: etree._Element) -> etree._Element | None:
    marked = set(tree.xpath(QUOTE_XPATH))
    for element in tree.iter(etree.Element):
        style = element.get("style") or ""
        if element in marked or (element.tag == "div" and OUTLOOK_BORDER.search(style)):
            return element
    return None


def _cut_from(element: etree._Element) -> None:
    """Remove the element and everything after it in document order."""
    node = element
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        for following in list(node.itersiblings()):
            parent.remove(following)
        node.tail = None
        node = parent
    if (parent := element.getparent()) is not None:
        parent.remove(element)


def _render(tree: etree._Element) -> str:
    out: list[str] = []
    _walk(tree, out, 0)
    lines = [line.rstrip() for line in "".join(out).replace("\xa0", " ").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip("\n")


def _walk(element: etree._Element, out: list[str], depth: int) -> None:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag in SKIP:
        return
    if depth > MAX_DEPTH:  # absurd nesting: keep the words, drop the layout
        out.append(" ".join(element.itertext()))
        return
    if tag == "br":
        out.append("\n")
        return
    if tag == "blockquote":
        inner: list[str] = []
        _children(element, inner, depth)
        quoted = "\n".join("> " + line if line.strip() else ">" for line in "".join(inner).strip("\n").split("\n"))
        _newline(out)
        out.append(quoted + "\n")
        return
    if tag in BLOCKS:
        _newline(out)
    if tag == "li":
        out.append("- ")
    if tag == "pre":
        out.append("".join(element.itertext()))
    else:
        _children(element, out, depth)
    if tag in BLOCKS:
        _newline(out)


def _children(element: etree._Element, out: list[str], depth: int) -> None:
    _text(out, element.text)
    for child in element:
        _walk(child, out, depth + 1)
        _text(out, child.tail)


def _text(out: list[str], text: str | None) -> None:
    """HTML whitespace (not the non-breaking space) is one space wherever it appears, and none at the
    start of a line."""
    if not text:
        return
    text = re.sub(r"[ \t\r\n\f]+", " ", text)
    if _at_line_start(out):
        text = text.lstrip(" ")
    if text:
        out.append(text)


def _at_line_start(out: list[str]) -> bool:
    return not out or out[-1].endswith("\n")


def _newline(out: list[str]) -> None:
    if not _at_line_start(out):
        out.append("\n")
