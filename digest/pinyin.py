"""pypinyin's `lazy_pinyin` (its default: NORMAL style, tones removed), read from its own data
files without importing the package.

Importing pypinyin parses both of its dictionaries in full, registers every pinyin style and
builds the segmenter's prefix set: about 0.4 s of CPU and 57 MB, paid by every build just to
name the episode's file. Here each call reads the two JSON files as text and picks out only
what the text needs: the phrases that start with one of its Han characters (one regex scan)
and the readings of the characters no phrase covers. The algorithm is pypinyin's own, step by
step: split into Han and non-Han runs (`seg/simpleseg.py`), cut each Han run by forward
maximum matching against the phrase dictionary, phrases only (`seg/mmseg.py`, the
`no_non_phrases=True` segmenter), then a phrase's listed readings or each character's first
reading, tone marks removed (`style/others.py`, `style/_utils.py`); non-Han runs pass
through as they are. tests/test_pinyin.py checks it against pypinyin itself.

pypinyin stays a dependency: it is where the data comes from, and the fallback if its files
are ever laid out differently from what this reader expects.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

# pypinyin.constants.RE_HANS (UCS-4 build): the characters it looks up; anything else is
# passed through. Copied, since importing pypinyin.constants loads both dictionaries.
HAN_CHARACTERS = (
    "\u3007"
    "\ue815-\ue864"
    "\ufa18"
    "\u3400-\u4dbf"
    "\u4e00-\u9fff"
    "\uf900-\ufaff"
    "\U00020000-\U0002a6df"
    "\U0002a703-\U0002b73f"
    "\U0002b740-\U0002b81d"
    "\U0002b825-\U0002bf6e"
    "\U0002c029-\U0002ce93"
    "\U0002d016"
    "\U0002d11b-\U0002ebd9"
    "\U0002f80a-\U0002fa1f"
    "\U00030000-\U0003134a"
    "\U000300f7-\U00031288"
    "\U00030edd"
    "\U00030ede"
    "\U00031350-\U00032389"
)
_RUN = re.compile(f"([{HAN_CHARACTERS}]+)")

# pypinyin.phonetic_symbol: tone-marked letters -> letter + tone digit; the NORMAL style
# then deletes every digit.
_TONE_MARKS = str.maketrans(
    {
        **dict(zip("āáǎàēéěèōóǒòīíǐìūúǔù", [f"{v}{t}" for v in "aeoiu" for t in "1234"])),
        "ü": "v",
        **{m: f"v{t}" for m, t in zip("ǖǘǚǜ", "1234")},
        **{m: f"n{t}" for m, t in zip("ńňǹ", "234")},
        "ḿ": "m2",
        "ế": "ê2",
        "ề": "ê4",
    }
)
# the marks written with a combining character (two code points), replaced after the others
_TWO_CHARACTER_MARKS = (("m̄", "m1"), ("m̀", "m4"), ("ê̄", "ê1"), ("ê̌", "ê3"))
_DIGIT = re.compile(r"\d")

# the layout both files have (json.dump with indent=0): one key per line, right after a newline
_PHRASES_START = re.compile(r'\{\n"[^"\n]+": \[\n')
_READINGS_START = re.compile(r'\{\n"\d+": "[^"\n]*",?\n')


def lazy_pinyin(text: str) -> list[str]:
    """Exactly `pypinyin.lazy_pinyin(text)`: one toneless reading per Han character (phrases
    read as pypinyin segments them), every other run of characters kept as one item."""
    dictionaries = _dictionaries()
    if dictionaries is None:  # a pypinyin whose files this reader does not know
        from pypinyin import lazy_pinyin as pypinyin_lazy_pinyin

        return pypinyin_lazy_pinyin(text)
    runs = _RUN.split(text)  # odd indexes are Han runs
    phrases = _Phrases.starting_with(set("".join(runs[1::2])), dictionaries.phrases)
    cuts = {i: phrases.cut(runs[i]) for i in range(1, len(runs), 2)}
    singles = {c for words in cuts.values() for w in words if w not in phrases.readings for c in w}
    character_readings = _first_readings(singles, dictionaries.characters)
    out: list[str] = []
    for i, run in enumerate(runs):
        if i not in cuts:
            if run:
                out.append(run)
            continue
        for word in cuts[i]:
            if word in phrases.readings:
                out.extend(_toneless(reading[0]) for reading in phrases.reading(word))
            else:
                out.extend(_toneless(character_readings.get(c, c)) for c in word)
    return out


@dataclass(frozen=True)
class _DataFiles:
    phrases: Path
    characters: Path


@cache
def _dictionaries() -> _DataFiles | None:
    """pypinyin's two dictionary files, if laid out as this reader expects."""
    spec = find_spec("pypinyin")  # locates the package without running it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(spec.submodule_search_locations[0])
    files = _DataFiles(folder / "phrases_dict.json", folder / "pinyin_dict.json")
    try:
        with open(files.phrases, encoding="utf-8", newline="") as f:
            phrases_start = f.read(4096)
        with open(files.characters, encoding="utf-8", newline="") as f:
            readings_start = f.read(4096)
    except (OSError, UnicodeDecodeError):
        return None
    if _PHRASES_START.match(phrases_start) and _READINGS_START.match(readings_start):
        return files
    return None


class _Phrases:
    """The phrase dictionary entries whose first character is one of a text's characters:
    enough to segment that text exactly as with the whole dictionary, since a word that
    starts at a character can only be a phrase beginning with it."""

    def __init__(self, text: str, positions: dict[str, int]):
        self._text = text  # the dictionary file
        self.readings = positions  # phrase -> where its readings start in the file
        self._prefixes = {p[:n] for p in positions for n in range(1, len(p) + 1)}

    @classmethod
    def starting_with(cls, characters: set[str], path: Path) -> _Phrases:
        if not characters or os.environ.get("PYPINYIN_NO_PHRASES"):  # pypinyin's own switch
            return cls("", {})
        text = path.read_bytes().decode("utf-8")
        # a class of the few characters a title has is quick; for many (or characters
        # beyond the BMP, which the class tests one by one) filtering every key is cheaper
        first = (
            f"[{''.join(map(re.escape, sorted(characters)))}]"
            if len(characters) <= 64
            else '[^"\n]'
        )
        keys = re.compile(f'\n"({first}[^"\n]*)": (?=\\[)')
        positions = {}
        for match in keys.finditer(text):
            if match.group(1)[0] in characters:
                positions[match.group(1)] = match.end()  # a later duplicate wins, as in json.loads
        return cls(text, positions)

    def reading(self, phrase: str) -> list[list[str]]:
        """The phrase's readings: one list per character, the first one used."""
        value, _ = json.JSONDecoder().raw_decode(self._text, self.readings[phrase])
        return value

    def cut(self, run: str) -> list[str]:
        """pypinyin's mmseg `Seg(no_non_phrases=True).cut`: the longest phrase that starts
        here, growing one character at a time while the text so far is a phrase prefix; a
        single character where none starts. Kept as written there, including that when the
        rest of the run is all one prefix but holds no phrase it is cut into characters."""
        words = []
        remain = run
        while remain:
            longest = 0
            for index in range(len(remain)):
                word = remain[: index + 1]
                if word in self._prefixes:
                    if word in self.readings:
                        longest = index + 1
                else:
                    words.append(remain[: longest or 1])
                    remain = remain[longest or 1 :]
                    break
            else:
                if longest:
                    words.append(remain[:longest])
                    remain = remain[longest:]
                else:
                    words.extend(remain)
                    break
        return words


def _first_readings(characters: set[str], path: Path) -> dict[str, str]:
    """Each character's first listed reading (characters without one are left out)."""
    if not characters:
        return {}
    wanted = {ord(c) for c in characters}
    # naming the few characters a title needs is quick; for many, one pass over every
    # entry is cheaper than a long alternation
    codes = (
        b"|".join(str(code).encode() for code in sorted(wanted)) if len(wanted) <= 64 else rb"\d+"
    )
    entries = re.compile(rb'\n"(' + codes + rb')": ("(?:[^"\\\n]|\\.)*")')
    found = {}
    for match in entries.finditer(path.read_bytes()):
        code = int(match.group(1))
        if code in wanted:
            found[code] = match.group(2)  # a later duplicate wins, as in json.loads
    return {chr(code): json.loads(value).split(",")[0] for code, value in found.items()}


def _toneless(reading: str) -> str:
    """pypinyin's NORMAL style: tone marks to digits, then every digit removed."""
    reading = reading.translate(_TONE_MARKS)
    for marked, numbered in _TWO_CHARACTER_MARKS:
        reading = reading.replace(marked, numbered)
    return _DIGIT.sub("", reading)
