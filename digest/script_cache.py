"""Article text -> (Article, Script), remembered: a re-run of an unchanged article skips
sectioning and normalization, and does not even import the normalizer.

A warm build of the seed article otherwise spends most of its time compiling
the normalizer's rules and running them over text that has not changed.  The
result of `digest.script.build_script` is stored in the clip cache's folder as
`<key[:2]>/<key>.script.json`, so `digest cache prune` ages it out with the
clips (least recently used first).

The key covers everything the script depends on: the article's text, the
title given, the voice's locale, the vocabulary mode, the chunk size, the
lexicons' bytes, and the code (`digest.memo.code_stamp`: digest's version plus
the size and modification time of every file of the package, so an edited
checkout never reads a stale script).  An entry that fails to parse or
validate is ignored and written afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from digest.article import Article, Section
from digest.files import write_atomically
from digest.memo import code_stamp
from digest.script import Line, Script, ScriptChapter
from digest.settings import user_lexicon_path

FORMAT = 1
MAX_ENTRY_BYTES = 64 * 1024 * 1024


def script_key(
    text: str,
    *,
    title: str | None,
    locale: str,
    vocabulary: str,
    chunk_chars: int,
    lexicon_file: Path | None,
) -> str | None:
    """The cache key of the script these inputs make; None if a lexicon cannot be read
    (the normal path then reports it)."""
    lexicon = lexicon_file if lexicon_file is not None else user_lexicon_path()
    try:
        lexicon_bytes = lexicon.read_bytes() if lexicon.is_file() else b""
    except OSError:
        return None
    if lexicon_file is not None and not lexicon_file.is_file():
        return None
    inputs = {
        "format": FORMAT,
        "code": code_stamp(),
        "text": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        "title": title,
        "locale": locale,
        "vocabulary": vocabulary,
        "chunk_chars": chunk_chars,
        "lexicon": hashlib.sha256(lexicon_bytes).hexdigest(),
    }
    canonical = json.dumps(inputs, sort_keys=True, ensure_ascii=True).encode("ascii")
    return hashlib.sha256(canonical).hexdigest()


def _path(root: Path, key: str) -> Path:
    return root / key[:2] / f"{key}.script.json"


def load_script(root: Path, key: str) -> tuple[Article, Script] | None:
    """The stored article and script for `key`; None if there is none or it is unusable."""
    path = _path(root, key)
    try:
        if path.is_symlink() or path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        document = json.loads(path.read_bytes().decode("utf-8"))
        if document.get("format") != FORMAT or document.get("key") != key:
            return None
        found = _article(document["article"]), _script(document["script"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    try:
        os.utime(path)  # last used, for pruning
    except OSError:
        pass
    return found


def store_script(root: Path, key: str, article: Article, script: Script) -> None:
    """Remember a script; a failure to write only means the next build normalizes again."""
    document = {
        "format": FORMAT,
        "key": key,
        "article": {
            "title": article.title,
            "sections": [[s.title, list(s.paragraphs), s.number, s.kind] for s in article.sections],
        },
        "script": {
            "title": script.title,
            "locale": script.locale,
            "warnings": list(script.warnings),
            "chapters": [
                [c.title, list(c.chunks), [[ln.written, ln.spoken] for ln in c.lines], c.url]
                for c in script.chapters
            ],
        },
    }
    path = _path(root, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(document, ensure_ascii=False).encode("utf-8"))
    except OSError:
        pass


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a list of strings")
    return tuple(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _article(value: dict) -> Article:
    sections = tuple(
        Section(_text(title), _strings(paragraphs), _optional_text(number), _text(kind))
        for title, paragraphs, number, kind in value["sections"]
    )
    return Article(_text(value["title"]), sections)


def _script(value: dict) -> Script:
    chapters = tuple(
        ScriptChapter(
            _text(title),
            _strings(chunks),
            tuple(Line(_text(written), _text(spoken)) for written, spoken in lines),
            _optional_text(url),
        )
        for title, chunks, lines, url in value["chapters"]
    )
    return Script(
        _text(value["title"]), _text(value["locale"]), chapters, _strings(value["warnings"])
    )
