"""The I/O edge: turn a path (or "-" for stdin) into one clean Unicode string.

Decoding order:

1. a byte-order mark (UTF-8, UTF-32, UTF-16 LE/BE) decides;
2. otherwise NUL bytes mean binary -- unless the whole file decodes as BOM-less
   UTF-16 that looks like text;
3. strict UTF-8;
4. the legacy Chinese encodings: every one of GB18030 (a superset of GBK and
   GB2312) and Big5 that decodes strictly is scored on how Chinese the result
   looks (common characters and CJK punctuation up, kana / bopomofo / private-use
   / unassigned characters down).  charset-normalizer (restricted to those
   encodings) breaks ties, because on a title plus a sentence or two its own
   guess is not reliable;
5. charset-normalizer's unrestricted guess, accepted only if it looks like text.

Newlines are normalized to "\\n".  HTML pages (by extension or by their first
tag) are reduced to the text of their main content by `digest.html_text`.

Every failure is an `InputError` with a one-line message naming the file.
"""

from __future__ import annotations

import codecs
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

from digest.errors import InputError
from digest.text_safety import strip_invisible

__all__ = [
    "MAX_COVER_BYTES",
    "clean_text",
    "decode_bytes",
    "read_bounded",
    "read_text",
    "source_identity",
]

# A cover larger than this is not artwork (podcast directories ask for < 1 MB);
# an ID3v2 tag cannot hold more than 256 MB at all.
MAX_COVER_BYTES = 10 * 1024 * 1024

_LEGACY = ("gb18030", "big5")

# The most frequent Chinese characters, in both scripts: a cheap sanity check
# that a legacy decoding produced language rather than mojibake.
_COMMON = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用"
    "道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日者意"
    "无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应向头文体政美相见被利什二"
    "等产或新己制身果加月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几"
    "口认条平系气题活更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直资金指区保至形社"
    "這個們來為國說時會對於著過發後裡開當現種經麼學動樣點還進與關見處問體長應頭從實機業將無們東電數書認聽萬"
    "條總區報氣場親從間點與這們議義"
)
_CJK_PUNCT = frozenset("，。、；：？！「」『』（）《》“”…—")


_HTML_START = re.compile(
    r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)


def is_url(source: str) -> bool:
    """Is this source a web page's address (rather than a file name)?"""
    return source.startswith(("http://", "https://"))


def looks_like_html(text: str) -> bool:
    """Does `text` start like an HTML document (a doctype or an <html> tag)?"""
    return bool(_HTML_START.match(text[:4096]))


def read_text(source: str | Path, max_chars: int = 2_000_000) -> str:
    """Read an article from `source` (a path, or "-" for stdin) and return its text.

    Raises InputError (one line, naming the file) for a missing file, a
    directory, an unreadable file, an empty or content-free file (whitespace or
    punctuation only), binary data, an undecodable encoding, or more than
    `max_chars` characters.
    """
    if isinstance(source, str) and source == "-":
        name = "stdin"
        data = _read_stdin(max_chars)
        is_html_name = False
    else:
        path = Path(source)
        name = str(source)
        data = _read_file(path, name, max_chars)
        is_html_name = path.suffix.lower() in (".html", ".htm", ".xhtml")

    if not data:
        raise InputError(f"{name} is empty")
    return clean_text(decode_bytes(data, name), name, max_chars, is_html=is_html_name)


def clean_text(
    text: str, name: str = "text", max_chars: int = 2_000_000, is_html: bool = False
) -> str:
    """Decoded text -> article text: newlines normalized, a page reduced to its story, checked.

    Raises InputError naming `name` when the text is too long, blank, or has no words.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    if is_html or looks_like_html(text):
        from digest.html_text import html_to_text  # (here: a text file needs no HTML parser)

        text = html_to_text(text)
    text = strip_invisible(text)
    if len(text) > max_chars:
        raise InputError(
            f"{name} is {len(text):,} characters; the limit is {max_chars:,}", setting="max_chars"
        )
    if not text.strip():
        raise InputError(f"{name} is empty (only whitespace)")
    if not any(ch.isalpha() for ch in text):
        raise InputError(f"{name} has no words in it (only whitespace and punctuation)")
    return text


def _max_bytes(max_chars: int) -> int:
    """No encoding we accept spends less than one byte per character except
    the BOM, so more bytes than this cannot fit in `max_chars` characters."""
    return 4 * max_chars + 4


def source_identity(source: str | Path, text: str) -> str:
    """Where an article came from: its file's real path, a page's URL, or for stdin its text.

    Episodes are named per source (see `digest.outputs.choose_stem`): editing
    an article and building it again replaces its episode, while another
    article with the same title gets a name of its own.
    """
    if isinstance(source, str) and source == "-":
        return "text:" + text
    if isinstance(source, str) and "://" in source:
        return "url:" + source
    try:
        return "file:" + str(Path(source).resolve())
    except (OSError, RuntimeError):
        return "file:" + str(Path(source).absolute())


def read_limited(path: Path, what: str, limit: int) -> str:
    """A small UTF-8 configuration file's text; one-line InputError naming it otherwise."""
    try:
        with Path(path).open("rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise InputError(f"cannot read {what} {path}: {e.strerror or e}") from None
    if len(data) > limit:
        raise InputError(f"{what} {path} is larger than {limit:,} bytes; refusing to read it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{what} {path} is not valid UTF-8 (byte {e.start})") from None


def read_bounded(
    path: Path, limit: int, name: str, *, limit_text: str = "", setting: str | None = None
) -> bytes:
    """The bytes of `path`, refusing (InputError) anything over `limit` bytes.

    Reads at most `limit + 1` bytes, so /dev/zero or a growing file cannot
    exhaust memory, whatever the file's size says.  `limit_text` says the limit
    in the caller's terms (default: the bytes); `setting` is the option behind it.
    """
    too_big = f"{name} is larger than the limit of {limit_text or f'{limit:,} bytes'}"
    try:
        if path.is_dir():
            raise InputError(f"{name} is a directory, not a file")
        if path.exists() and path.stat().st_size > limit:  # refused without reading
            raise InputError(too_big, setting=setting)
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except InputError:
        raise
    except IsADirectoryError:
        raise InputError(f"{name} is a directory, not a file") from None
    except FileNotFoundError:
        raise InputError(f"{name} does not exist") from None
    except PermissionError:
        raise InputError(f"{name} is not readable (permission denied)") from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).replace("\n", " ")
        raise InputError(f"{name} could not be read: {reason}") from None
    if len(data) > limit:
        raise InputError(too_big, setting=setting)
    return data


def _read_stdin(max_chars: int) -> bytes:
    max_bytes = _max_bytes(max_chars)
    stream = getattr(sys.stdin, "buffer", None)
    try:
        if stream is not None:
            data = stream.read(max_bytes + 1)
        else:
            raw = sys.stdin.read(max_bytes + 1)  # a text stream without a buffer (tests)
            data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    except OSError as exc:
        raise InputError(f"stdin could not be read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise InputError(
            f"stdin is more than {max_bytes:,} bytes, far more than the limit of"
            f" {max_chars:,} characters",
            setting="max_chars",
        )
    return data


def _read_file(path: Path, name: str, max_chars: int) -> bytes:
    # No encoding we accept spends less than one byte per character (bar a BOM),
    # so a file this much bigger than the limit cannot fit in it.
    return read_bounded(
        path,
        _max_bytes(max_chars),
        name,
        limit_text=f"{max_chars:,} characters",
        setting="max_chars",
    )


# --------------------------------------------------------------------------- decoding

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes, name: str = "input") -> str:
    """Decode `data` following the order in the module docstring."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise InputError(
                    f"{name} starts with a {encoding.upper()} byte-order mark but is not valid {encoding.upper()}"
                ) from None
            if encoding == "utf-32" and not _looks_like_text(text):
                continue  # FF FE 00 00 may be UTF-16 LE starting with a NUL; fall through
            return _checked(text, name)

    if b"\x00" in data:
        text = _bomless_utf16(data)
        if text is not None:
            return text
        raise InputError(f"{name} is a binary file, not text (it contains NUL bytes)")

    try:
        return _checked(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass

    candidates: dict[str, str] = {}
    for encoding in _LEGACY:
        try:
            candidates[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if candidates:
        preferred = _charset_normalizer_guess(data, list(candidates))
        ranked = sorted(
            candidates,
            key=lambda enc: (_chinese_score(candidates[enc]), enc == preferred, enc == "gb18030"),
            reverse=True,
        )
        text = candidates[ranked[0]]
        if _looks_like_text(text):
            return text

    guess = _charset_normalizer_guess(data, None)
    if guess:
        try:
            text = data.decode(guess)
        except (UnicodeDecodeError, LookupError):
            text = ""
        if text and _looks_like_text(text) and _plausible_fallback(text):
            return text
    if _control_bytes(data) > max(2, len(data) // 100):
        raise InputError(f"{name} is a binary file, not text")
    raise InputError(
        f"{name} is not in an encoding digest can read (tried UTF-8, UTF-16, GB18030/GBK, Big5); save it as UTF-8"
    )


def _checked(text: str, name: str) -> str:
    if "\x00" in text or not _looks_like_text(text):
        raise InputError(f"{name} is a binary file, not text")
    return text


def _charset_normalizer_guess(data: bytes, only: list[str] | None) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - it is a declared dependency
        return None
    try:
        if only is not None:
            results = from_bytes(data, cp_isolation=only)
        else:
            results = from_bytes(data)
        best = results.best()
    except Exception:  # a detector bug must not hide the real error message
        return None
    if best is None:
        return None
    enc = best.encoding
    return {"gb2312": "gb18030", "gbk": "gb18030", "big5hkscs": "big5"}.get(enc, enc)


def _chinese_score(text: str) -> float:
    """How much `text` looks like Chinese rather than mojibake (higher is better)."""
    score = 0.0
    for ch in text[:50_000]:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF:
            score += 1.0 if _plausible_hanzi(ch) else -0.5
            if ch in _COMMON:
                score += 2.0
        elif ch in _CJK_PUNCT:
            score += 1.0
        elif (
            0x3040 <= o <= 0x30FF  # kana
            or 0x3100 <= o <= 0x312F  # bopomofo
            or 0x0370 <= o <= 0x04FF  # Greek, Cyrillic
            or 0x2500 <= o <= 0x257F  # box drawing
            or 0xFE50 <= o <= 0xFE6F  # small form variants
            or 0xE000 <= o <= 0xF8FF  # private use
            or unicodedata.category(ch) in ("Cn", "Co", "Cs")
        ):
            score -= 2.0
    return score


@lru_cache(maxsize=None)
def _plausible_hanzi(ch: str) -> bool:
    """In GB2312 level 1/2 (simplified) or Big5 level 1 (common traditional)."""
    try:
        b = ch.encode("gb2312")
        if len(b) == 2 and b[0] >= 0xB0:
            return True
    except UnicodeEncodeError:
        pass
    try:
        b = ch.encode("big5")
        if len(b) == 2 and 0xA440 <= (b[0] << 8 | b[1]) <= 0xC67E:
            return True
    except UnicodeEncodeError:
        pass
    return False


def _bomless_utf16(data: bytes) -> str | None:
    """`data` as UTF-16 without a BOM, if it clearly is that; else None.

    Text in UTF-16 has its NUL bytes (from ASCII characters) all on one side of
    each code unit, decodes without control characters, and reads as words.
    """
    if len(data) % 2:
        return None
    even_nul = data[0::2].count(0)
    odd_nul = data[1::2].count(0)
    if min(even_nul, odd_nul) * 4 > max(even_nul, odd_nul):  # no side clearly holds the NULs
        return None
    encoding = "utf-16-le" if odd_nul > even_nul else "utf-16-be"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if any(
        unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") and ch not in "\n\r\t" for ch in text
    ):
        return None
    return text if _plausible_fallback(text) else None


def _plausible_fallback(text: str) -> bool:
    """Mostly Chinese and/or ASCII letters (a few accented ones are fine), not mojibake."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    visible = sum(1 for ch in text if not ch.isspace())
    if len(letters) + sum(1 for ch in text if ch.isdigit()) < visible / 2:
        return False
    cjk = sum(1 for ch in letters if 0x3400 <= ord(ch) <= 0x9FFF)
    ascii_letters = sum(1 for ch in letters if ch.isascii())
    if cjk and _chinese_score(text) <= 0:
        return False
    return cjk + ascii_letters >= 0.8 * len(letters)


def _control_bytes(data: bytes) -> int:
    return sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13, 27))


def _looks_like_text(text: str) -> bool:
    """Few control / unassigned / private-use characters."""
    if not text:
        return True
    bad = 0
    for line in text.split("\n"):
        if line.isprintable():  # the usual line, checked at C speed
            continue
        for ch in line:
            if ch in "\r\t\f\v\ufeff":
                continue
            cat = unicodedata.category(ch)
            if cat in ("Cc", "Cn", "Co", "Cs"):
                bad += 1
    return bad <= max(2, len(text) // 100)
