"""OpenCC's dictionary files, read directly: the cue words' Traditional spellings and the t2s
tables come from them without importing OpenCC, whose converters take ~20 ms each to build
(`digest normalize` on one line would spend most of its start-up there).

The conversions here give exactly OpenCC's output for its group dictionaries (a phrase file,
then a character file): OpenCC replaces the longest phrase first (leftmost among equals), then
both sides the same way, and every remaining character by its first listed value.
tests/test_normalize_conversion.py checks them against OpenCC itself.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.util import find_spec
from pathlib import Path

# find_spec locates the package without running it (importing opencc costs ~6 ms)
FOLDER = Path(find_spec("opencc").submodule_search_locations[0]) / "dictionary"

# opencc-python-reimplemented cuts the text at these before matching phrases
OPENCC_SPLIT = re.compile(
    r"(\s+|-|,|\.|\?|!|\*|　|，|。|、|；|：|？|！|…|“|”|‘|’|『|』|「|」|﹁|﹂|—|－|（|）|《|》|〈|〉|～|．|／|＼|︒|︑|︔|︓|︿|﹀|︹|︺|︙"
    r"|︐|［|﹇|］|﹈|︕|︖|︰|︳|︴|︽|︾|︵|︶|｛|︷|｝|︸|﹃|﹄|【|︻|】|︼)"
)


def entries(name: str) -> list[tuple[str, list[str]]]:
    """(key, values) of one dictionary file; OpenCC uses the first value."""
    out = []
    for line in (FOLDER / name).read_text(encoding="utf-8").splitlines():
        key, _, values = line.strip().partition("\t")
        if key and values:
            out.append((key, values.split(" ")))
    return out


@cache
def character_table(name: str) -> dict[int, str]:
    """A `str.translate` table from a one-character dictionary (keys that change only)."""
    return {ord(k): v[0] for k, v in entries(name) if len(k) == 1 and v[0] != k}


@cache
def phrase_table(name: str) -> dict[str, str]:
    """Phrase -> its values as written (space-separated; OpenCC uses the first), from a phrase
    dictionary: what `line.split("\t", 1)` gives for each line.

    STPhrases has 49,000 lines. OpenCC writes one tab in each: then (as many tabs as line
    ends, no CR) the file splits into keys and values in two C-level calls, several times
    faster than splitting line by line (which any other file gets)."""
    text = (FOLDER / name).read_text(encoding="utf-8")
    if "\r" not in text and text.endswith("\n") and text.count("\t") == text.count("\n"):
        parts = text.replace("\n", "\t").split("\t")
        return dict(zip(parts[0:-1:2], parts[1::2]))
    return dict(line.split("\t", 1) for line in text.splitlines() if line)


def phrase_convert(piece: str, limit: int, table: dict[int, str], phrases: dict[str, str]) -> str:
    """OpenCC's matching on one piece: the longest phrase (leftmost among equals) of at most
    `limit` characters first, then both sides the same way; what no phrase covers goes
    character by character through `table`."""
    n = len(piece)
    for size in range(min(n, limit), 1, -1):
        for i in range(n - size + 1):
            value = phrases.get(piece[i : i + size])
            if value is not None:
                return (
                    phrase_convert(piece[:i], size, table, phrases)
                    + value.partition(" ")[0]
                    + phrase_convert(piece[i + size :], size, table, phrases)
                )
    return piece.translate(table)


@cache
def _s2t_longest() -> int:
    return max(map(len, phrase_table("STPhrases.txt")))


def to_traditional(text: str) -> str:
    """Exactly `opencc.OpenCC('s2t').convert(text)`."""
    table = character_table("STCharacters.txt")
    parts = OPENCC_SPLIT.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2 or len(part) < 2:  # a separator, or too short to hold a phrase
            out.append(part if i % 2 else part.translate(table))
        else:
            out.append(phrase_convert(part, _s2t_longest(), table, phrase_table("STPhrases.txt")))
    return "".join(out)


def to_taiwan_traditional(text: str) -> str:
    """Exactly `opencc.OpenCC('s2tw').convert(text)`: s2t, then Taiwan's character variants."""
    return to_traditional(text).translate(character_table("TWVariants.txt"))
