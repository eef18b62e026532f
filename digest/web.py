"""Web pages: fetch one over HTTP(S) and extract the story it carries.

Fetching uses httpx: per-phase timeouts, a bounded number of redirects, a
real User-Agent, and a streamed body that is abandoned as soon as it passes
the size cap (a 50 MB answer is refused after reading the first few
megabytes, or at once when it declares its length).  The charset is decided
on the bytes: the header's, else the page's own `<meta charset>`, when it
decodes the whole page strictly; otherwise the same detection as for files.

Extraction is trafilatura, after a boilerplate pass of our own and with a
line filter after it (both checked on the saved pages in tests/pages/):

* before: elements that are navigation, asides, forms and footers by tag, or
  related/recommend/hot/comment/paywall/share/editor/counter/... blocks by a
  class or id word, are removed.  trafilatura on its own took the "related"
  `<article>` cards beside a story kept in a plain `<div>`, and repeated a
  live blog's entries;
* the hand-written extractor (`digest.html_text`) wins in one place: sub-heads
  in a plain `<div>` layout (`<h3>` inside `<div class="txt">`), which
  trafilatura drops.  Its headings are put back in front of the paragraph
  that follows them, when trafilatura kept that paragraph;
* after: editor lines (责任编辑), datelines (2026年11月30日 07:45 来源：…),
  "read more", paywall and login prompts, share bars and counters are
  dropped line by line, and repeated paragraphs are kept once.

A page whose content trafilatura cannot find falls back to the hand-written
extractor on the cleaned page.  The headline is the page's `<h1>`, else its
`<title>` without the site suffix ("… - 自由快報", "…_新闻中心_东方新闻网").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import quote, urldefrag, urlsplit

from digest.errors import SourceError
from digest.html_text import html_to_text
from digest.reading import decode_bytes

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36 digest/0.1 (+https://github.com/digest-podcast)"
)
MAX_PAGE_BYTES = 5_000_000
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 20.0

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "application/rdf+xml",
)


@dataclass(frozen=True)
class FetchOptions:
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    max_bytes: int = MAX_PAGE_BYTES
    max_redirects: int = MAX_REDIRECTS


@dataclass(frozen=True)
class Fetched:
    """The answer to one GET, after redirects."""

    url: str  # the final URL
    content_type: str  # lower-case media type without parameters
    charset: str | None  # from the Content-Type header
    data: bytes


@dataclass(frozen=True)
class Page:
    """The story on a web page."""

    title: str
    text: str  # Markdown-ish: `# headline`, paragraphs, `## subhead`
    url: str  # canonical URL when the page names one, else the final URL
    site: str | None = None
    author: str | None = None
    date: str | None = None


def fetch(url: str, options: FetchOptions = FetchOptions()) -> Fetched:
    """GET `url`; every failure is a SourceError with one line naming the URL."""
    import httpx

    timeout = httpx.Timeout(options.read_timeout, connect=options.connect_timeout)
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.5",
        "Accept-Language": "zh-CN,zh;q=0.9,zh-TW;q=0.8,en;q=0.5",
    }
    try:
        with httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            max_redirects=options.max_redirects,
            headers=headers,
        ) as client:
            with client.stream("GET", url) as response:
                if response.status_code >= 400:
                    reason = response.reason_phrase or "error"
                    raise SourceError(f"{url}: HTTP {response.status_code} {reason}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > options.max_bytes:
                    raise SourceError(
                        f"{url}: the page is {int(declared):,} bytes, more than the limit of {options.max_bytes:,}"
                    )
                body = bytearray()
                for piece in response.iter_bytes():
                    body += piece
                    if len(body) > options.max_bytes:
                        raise SourceError(
                            f"{url}: the page is larger than the limit of {options.max_bytes:,} bytes"
                        )
                media, _, params = response.headers.get("content-type", "").partition(";")
                charset = _charset_param(params)
                return Fetched(str(response.url), media.strip().lower(), charset, bytes(body))
    except httpx.TooManyRedirects:
        raise SourceError(f"{url}: more than {options.max_redirects} redirects") from None
    except httpx.TimeoutException:
        raise SourceError(f"{url}: no answer in time (timed out)") from None
    except httpx.InvalidURL as exc:
        raise SourceError(f"{url}: not a usable URL ({exc})") from None
    except httpx.HTTPError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"{url}: could not be fetched ({reason})") from None


def _charset_param(params: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.I)
    return match.group(1).lower() if match else None


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)


def decode_page(data: bytes, header_charset: str | None, name: str) -> str:
    """The page's text: its declared charset (header, then <meta>) when that fits the bytes."""
    declared = [header_charset]
    match = _META_CHARSET.search(data[:4096])
    if match:
        declared.append(match.group(1).decode("ascii", "replace").lower())
    for charset in declared:
        if not charset:
            continue
        # GBK and GB2312 pages routinely use characters only GB18030 names.
        codec = "gb18030" if charset in ("gbk", "gb2312", "x-gbk") else charset
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue  # a header or meta that lies: decide on the bytes instead
    return decode_bytes(data, name)


def is_feed(fetched: Fetched) -> bool:
    """An RSS/Atom document rather than a page."""
    if fetched.content_type in _FEED_TYPES:
        return True
    head = fetched.data[:1024].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf" in head)


def read_page(url: str, options: FetchOptions = FetchOptions()) -> Page:
    """Fetch `url` and extract its story.  SourceError when there is none to read."""
    fetched = fetch(url, options)
    if fetched.content_type and fetched.content_type not in _HTML_TYPES:
        raise SourceError(f"{url}: not a web page ({fetched.content_type})")
    html = decode_page(fetched.data, fetched.charset, url)
    page = extract_page(html, fetched.url)
    if not page.text.strip() or not any(ch.isalpha() for ch in page.text.split("\n", 1)[-1]):
        raise SourceError(f"{url}: no story found on the page")
    return page


# --------------------------------------------------------------------------- extraction

_BOILERPLATE_TAGS = {"nav", "aside", "footer", "form", "header", "script", "style", "noscript"}
_BOILERPLATE_WORDS = re.compile(
    r"(?:^|[-_\s])(related|recommend\w*|hot|hotnews|sidebar|side|comments?|reply|paywall|"
    r"subscribe|login|share|sharing|social|editor|counter|stats|read-?more|more-?news|"
    r"refresh|breadcrumbs?|crumbs?|footer|foot|nav|navbar|menu|top-?bar|header|ads?|advert\w*|"
    r"card|cards|tags|copyright|byline-share)(?:[-_\s]|$)",
    re.I,
)

MAX_BOILERPLATE_LINE = 40  # characters; longer lines are the story's, whatever they say
_DROP_LINE = re.compile(
    r"^(?:[（(]?\s*(?:责任编辑|責任編輯|编辑|編輯|校对|校對|审核|審核|监制|監製)\s*[：:]"  # editor lines
    r"|(?:延伸阅读|延伸閱讀|相关阅读|相關閱讀|相关新闻|相關新聞|推荐阅读|推薦閱讀|阅读全文|閱讀全文|点击查看|點擊查看)"
    r"|(?:分享到|分享)\s*[:：]?\s*(?:微信|微博|QQ|Facebook|LINE)"
    r"|.*(?:订阅后|訂閱後|会员专享|會員專享|登录后继续|登入後繼續|请登录|請登入|立即订阅|立即訂閱)"
    r"|(?:阅读|閱讀)\s*[\d.]+\s*[万萬]?\s*[·|]"
    r"|(?:网友评论|網友評論|发表评论|發表評論)"
    r")"
)
_DATELINE = re.compile(
    r"^[\s（(]*\d{4}\s*(?:年|[-/.])\s*\d{1,2}\s*(?:月|[-/.])\s*\d{1,2}\s*日?"
    r"(?:\s*(?:星期|週|周)[一二三四五六日天])?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
    r"(?:\s*(?:来源|來源|记者|記者|作者|编辑|編輯)\s*[：:]?.{0,30})?[\s）)]*$"
)
_TITLE_SEPARATORS = re.compile(r"\s*(?:\s[-|–—]\s|[|｜_]|\s-\s)\s*")


def clean_html(html: str) -> str:
    """The page without navigation, asides, related cards, comments and other boilerplate."""
    from lxml import html as lxml_html

    try:
        document = lxml_html.document_fromstring(html)
    except Exception:  # lxml refuses empty or odd documents: let the extractors try the raw page
        return html
    body_chars = len(document.text_content()) or 1

    def holds_the_story(element) -> bool:
        # An <article><header><h1> or a class="article-header" wraps the headline, and a
        # wrapper with most of the page's text is the story whatever its class says.
        if element.tag == "h1" or element.find(".//h1") is not None:
            return True
        return len(element.text_content()) > 0.4 * body_chars

    doomed = []
    for element in document.iter():
        if not isinstance(element.tag, str) or element.tag in ("html", "body"):
            continue
        if element.tag in ("script", "style", "noscript"):
            doomed.append(element)
            continue
        words = f"{element.get('class') or ''} {element.get('id') or ''}".strip()
        boilerplate = element.tag in _BOILERPLATE_TAGS or (
            words and _BOILERPLATE_WORDS.search(words)
        )
        if boilerplate and not holds_the_story(element):
            doomed.append(element)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()
    return lxml_html.tostring(document, encoding="unicode")


def strip_site_suffix(title: str, site: str | None = None) -> str:
    """`标题 - 自由快報` -> `标题`: the first part of a `<title>` split at site separators."""
    title = " ".join(title.split())
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p.strip()]
    if len(parts) < 2:
        return title
    headline = parts[0]
    # A headline that is itself short ("直播") with a long second part is not a site suffix.
    if len(headline) < 4 and not (site and site in parts[-1]):
        return title
    return headline


def site_suffix(title: str) -> str | None:
    """The site name at the end of a `<title>` (`… | 香港日報` -> `香港日報`), if there is one."""
    parts = [p for p in _TITLE_SEPARATORS.split(" ".join(title.split())) if p.strip()]
    if len(parts) >= 2 and 2 <= len(parts[-1]) <= 12 and len(parts[0]) >= 4:
        return parts[-1].strip()
    return None


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _restore_headings(chosen: list[str], handwritten: list[str]) -> list[str]:
    """Put back sub-heads trafilatura dropped, before the paragraph that follows them."""
    kept = set(chosen)
    if any(line.startswith("#") and line.lstrip("#").startswith(" ") for line in chosen[1:]):
        return chosen  # trafilatura found sub-heads itself
    insert_before: dict[str, str] = {}
    pending: str | None = None
    for line in handwritten[1:]:
        if re.match(r"#{2,6} ", line):
            pending = line
        elif pending is not None:
            if line in kept:
                insert_before[line] = "## " + pending.lstrip("#").strip()
            pending = None
    out: list[str] = []
    for line in chosen:
        if line in insert_before:
            out.append(insert_before.pop(line))
        out.append(line)
    return out


def _filter_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for line in lines:
        body = line.lstrip("#").strip() if line.startswith("#") else line
        # Only short lines: a story's own sentence may well say "请登录政务网站办理".
        if len(body) <= MAX_BOILERPLATE_LINE and (_DROP_LINE.match(body) or _DATELINE.match(body)):
            continue
        if line in seen and not line.startswith("#"):
            continue  # a live blog's entries, repeated by the extractor
        seen.add(line)
        out.append(line)
    return out


def extract_page(html: str, url: str = "") -> Page:
    """The headline, story and sub-heads of a page (pure: no network)."""
    import trafilatura

    cleaned = clean_html(html)
    metadata = trafilatura.extract_metadata(html, default_url=url or None)
    markdown = trafilatura.extract(
        cleaned,
        url=url or None,
        output_format="markdown",
        include_formatting=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
    )
    handwritten = _paragraphs(html_to_text(cleaned))
    lines = _paragraphs(markdown) if markdown else handwritten[1:]
    lines = _restore_headings(lines, handwritten) if markdown else lines
    site = metadata.sitename if metadata and metadata.sitename else None
    if site and re.fullmatch(r"[\w.-]+\.[\w-]+|[\d.:]+", site):
        site = None  # trafilatura's fallback is the host name, which nobody says aloud
    if not site:
        raw_title = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
        site = site_suffix(unescape(raw_title.group(1))) if raw_title else None
    h1 = handwritten[0][2:].strip() if handwritten and handwritten[0].startswith("# ") else ""
    title = ""
    if lines and lines[0].startswith("# "):
        title = lines.pop(0)[2:].strip()
    title = title or (metadata.title if metadata and metadata.title else "") or h1
    title = strip_site_suffix(title, site)
    lines = [line for line in lines if line.lstrip("# ").strip() != title]
    lines = _filter_lines(lines)
    # "## heading" lines become chapters; everything else is a paragraph line.
    body = "\n\n".join(lines)
    text = f"# {title}\n\n{body}\n" if title else body + "\n"
    canonical = metadata.url if metadata and metadata.url else url
    return Page(
        title=title,
        text=text,
        url=canonical_url(canonical or url),
        site=site,
        author=metadata.author if metadata else None,
        date=metadata.date if metadata else None,
    )


def canonical_url(url: str) -> str:
    """A URL as a story key: no fragment, lower-case scheme and host, no trailing slash.

    Non-ASCII characters are percent-encoded: an ID3 link (WXXX) is Latin-1.
    """
    if not url:
        return url
    url, _ = urldefrag(quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~"))
    parts = urlsplit(url)
    path = parts.path.rstrip("/") or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"
