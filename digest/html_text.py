"""Web pages: the text of an HTML page's main content, with Markdown headings.

The stdlib parser is enough here: the page is reduced to its <article> (else
<main>, else <body>), without scripts, styles, navigation, headers, footers
and asides; h1-h6 become `#` lines so `digest.article` can section the text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_NUMERIC_CHARREF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")


def _drop_invalid_charrefs(html: str) -> str:
    """Remove numeric references to NUL, surrogates or beyond U+10FFFF.

    The parser turns them into U+FFFD (as browsers do), which the voice would
    then be sent; they stand for no character, so they are dropped.
    """

    def replace(match: re.Match[str]) -> str:
        digits = match.group(1) or match.group(2)
        if len(digits) > 8:
            return ""
        value = int(digits, 16 if match.group(1) else 10)
        if value == 0 or 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
            return ""
        return match.group(0)

    return _NUMERIC_CHARREF.sub(replace, html)


_SKIP = {
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "aside",
    "noscript",
    "template",
    "form",
    "svg",
    "iframe",
    "button",
    "select",
    "textarea",  # a form field's text is not the article's
}
_BLOCK = {
    "p",
    "div",
    "li",
    "br",
    "tr",
    "section",
    "article",
    "main",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "table",
    "dd",
    "dt",
    "figure",
    "figcaption",
    "hr",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_VOID = {
    "br",
    "hr",
    "img",
    "meta",
    "link",
    "input",
    "wbr",
    "source",
    "area",
    "base",
    "col",
    "embed",
    "param",
    "track",
}


class _Extractor(HTMLParser):
    def __init__(self, scope: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.scope = scope  # "article" / "main": only text inside it counts
        self.scope_depth = 0
        self.skip_depth = 0
        self.in_title = False
        self.title = ""
        self.heading: int | None = None
        self.h1s: list[str] = []
        self.out: list[str] = []  # lines; the current one is built in `buf`
        self.buf: list[str] = []

    # scope / skip bookkeeping -------------------------------------------------
    def _active(self) -> bool:
        return self.skip_depth == 0 and (self.scope is None or self.scope_depth > 0)

    def _flush(self) -> None:
        line = re.sub(r"\s+", " ", "".join(self.buf)).strip()
        self.buf = []
        if not line:
            return
        if self.heading is not None:
            if self.heading == 1:
                self.h1s.append(line)
            self.out.append("")
            self.out.append("#" * self.heading + " " + line)
            self.out.append("")
        else:
            self.out.append(line)

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.in_title = True
            return
        if tag == self.scope:
            self.scope_depth += 1
        if tag in _SKIP and tag not in _VOID:
            self.skip_depth += 1
            return
        if not self._active():
            return
        if tag in _HEADINGS:
            self._flush()
            self.heading = _HEADINGS[tag]
        elif tag in _BLOCK:
            self._flush()
            if tag in ("p", "blockquote", "table", "ul", "ol"):
                self.out.append("")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK and self._active():
            self._flush()

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
            return
        if tag in _SKIP and tag not in _VOID:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self._active():
            if tag in _HEADINGS and self.heading is not None:
                self._flush()
                self.heading = None
            elif tag in _BLOCK:
                self._flush()
                if tag in ("p", "blockquote", "table", "ul", "ol"):
                    self.out.append("")
        if tag == self.scope:
            self.scope_depth = max(0, self.scope_depth - 1)

    def handle_data(self, data):
        if self.in_title:
            self.title += data
            return
        if self._active():
            self.buf.append(data)


def html_to_text(html: str) -> str:
    """The main content of an HTML page as plain text with Markdown headings.

    The first line is `# <title>` (the first <h1>, else <title>), then the text
    of <article> (else <main>, else <body>) without scripts, styles, navigation,
    headers, footers and asides.
    """
    html = _drop_invalid_charrefs(html)
    lowered = html.lower()
    scope = None
    for tag in ("article", "main"):
        if re.search(rf"<{tag}[\s>]", lowered):
            scope = tag
            break
    parser = _Extractor(scope)
    parser.feed(html)
    parser.close()
    parser._flush()
    lines = parser.out
    if scope is not None and not any(line.strip() for line in lines):
        parser = _Extractor(None)
        parser.feed(html)
        parser.close()
        parser._flush()
        lines = parser.out
    page_title = re.sub(r"\s+", " ", parser.title).strip()
    title = parser.h1s[0] if parser.h1s else page_title
    body: list[str] = []
    dropped_title = False
    for line in lines:
        if not dropped_title and parser.h1s and line == "# " + parser.h1s[0]:
            dropped_title = True
            continue
        body.append(line)
    text = "\n".join(body)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if title:
        text = f"# {title}\n\n{text}" if text else f"# {title}"
    return text + "\n" if text else ""
