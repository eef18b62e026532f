"""pypinyin's `lazy_pinyin` (its default: NORMAL style, tones removed), read from its own data
files without importing the package.

Importing pypinyin parses both of its dictionaries in full, registers every pinyin style and
builds the segmenter's prefix set: about 0.4 s of CPU and 57 MB, paid by every build just to
name the episode's file. Here each call picks out of the two JSON files only what the text
needs: the phrases that start with one of its Han characters and the readings of the
characters no phrase covers.

Finding them. Both files are written by `json.dump(indent=0)`: one key per line, right after a
newline. Their keys are sorted: phrases_dict.json by the phrase (and UTF-8 byte order is code
point order), pinyin_dict.json by the code point, a decimal integer. So each file is mapped
into memory and searched by bisection over its bytes: go to the middle of the range left, take
the next key line, compare, keep the half that holds the target. The phrases that start with a
character c are the keys from c up to (not including) chr(ord(c) + 1), one contiguous block; a
character's reading is the key from its code point n up to n + 1. Only those blocks are
decoded: a title costs about a millisecond. All the characters of a text are searched
together, sharing the first steps, until the keys compared fall between them.

The order is pypinyin's choice, not a promise, so each search checks it where it looks: every
key it compares must lie between the ones already seen on either side, the keys just before
and at each boundary must fall either side of it, and the keys of a block must rise (a reading
block holds one). A file caught out of order is read the old way for the rest of the process:
in full, one pass that picks every wanted entry wherever it is. These checks cannot see a key
out of place where no search looks; tests/test_pinyin.py checks the installed files in full,
so a pypinyin release that orders them otherwise fails there. The full pass is also what a text
with many distinct characters gets (more than a long article has), for which it costs less
than the searches.

Reading them. The algorithm is pypinyin's own, step by step: split into Han and non-Han runs
(`seg/simpleseg.py`), cut each Han run by forward maximum matching against the phrase
dictionary, phrases only (`seg/mmseg.py`, the `no_non_phrases=True` segmenter), then a
phrase's listed readings or each character's first reading, tone marks removed
(`style/others.py`, `style/_utils.py`); non-Han runs pass through as they are.
tests/test_pinyin.py checks it against pypinyin itself.

pypinyin stays a dependency: it is where the data comes from, and the fallback if its files
are ever laid out differently from what this reader expects.
"""

from __future__ import annotations

import json
import mmap
import os
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

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

# the layout both files have (json.dump with indent=0): one key per line, right after a newline;
# keys written with escapes (json's ensure_ascii) would be neither found nor ordered as read here
_PHRASES_START = re.compile(r'\{\n"[^"\\\n]+": \[\n')
_READINGS_START = re.compile(r'\{\n"\d+": "[^"\n]*",?\n')
# a key line in each file, from the newline before it: group 1 is the key
_PHRASE_LINE = re.compile(rb'\n"([^"\n]+)": \[')
_READING_LINE = re.compile(rb'\n"(\d+)": ("(?:[^"\\\n]|\\.)*")')  # group 2: the readings
# a phrase's key in decoded text: its readings start where the match ends
_PHRASE_KEY = re.compile(r'\n"([^"\n]+)": (?=\[)')

# Above this many distinct characters, one pass over the whole file costs less than searching
# for each (about 25 µs a character for phrases, whose blocks are decoded, 10 µs for a reading,
# against 30 and 20 ms for a pass; benchmarks/slug.py times both ways).
_PHRASE_SEARCHES_AT_MOST = 1000
_READING_SEARCHES_AT_MOST = 2000


def lazy_pinyin(text: str) -> list[str]:
    """Exactly `pypinyin.lazy_pinyin(text)`: one toneless reading per Han character (phrases
    read as pypinyin segments them), every other run of characters kept as one item."""
    files = _dictionaries()
    if files is None:  # a pypinyin whose files this reader does not know
        from pypinyin import lazy_pinyin as pypinyin_lazy_pinyin

        return pypinyin_lazy_pinyin(text)
    return _lazy_pinyin(text, files)


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


def _lazy_pinyin(text: str, files: _DataFiles) -> list[str]:
    """`lazy_pinyin` with the dictionaries in `files`."""
    runs = _RUN.split(text)  # odd indexes are Han runs
    phrases = _Phrases(_phrases_starting_with(set("".join(runs[1::2])), files.phrases))
    cuts = {i: phrases.cut(runs[i]) for i in range(1, len(runs), 2)}
    singles = {c for words in cuts.values() for w in words if w not in phrases.readings for c in w}
    character_readings = _first_readings(singles, files.characters)
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


class _OutOfOrder(Exception):
    """A dictionary file's keys are not in the order its bisection relies on."""


class _SortedFile:
    """A dictionary file mapped into memory whose key lines rise in `order(key)`, each key
    once: the entries wanted are found by bisection over its bytes.

    A position here is that of the newline that starts a key line. `_OutOfOrder` is raised,
    and the file no longer searched, when a key seen breaks the order."""

    def __init__(self, path: Path, key_line: re.Pattern[bytes], order: Callable[[bytes], Any]):
        with open(path, "rb") as file:  # the mapping outlives the file object
            self.data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        self._key_line = key_line
        self._order = order
        self.in_order = True  # until a check finds otherwise

    def blocks(self, ranges: list[tuple[Any, Any]]) -> list[bytes]:
        """For each range (low, high) of keys, ascending and not overlapping: the lines of the
        entries whose keys are from `low` up to (not including) `high`, from the newline
        before the first one (b"" if there are none)."""
        self.expect(self.in_order)
        targets = [key for bounds in ranges for key in bounds]
        positions: list[int] = []
        self._bisect(targets, 0, len(self.data), None, None, positions)
        return [self.data[start:stop] for start, stop in zip(positions[::2], positions[1::2])]

    def expect(self, in_order: bool) -> None:
        """Give up on this file's order if `in_order` is false."""
        if not in_order:
            self.in_order = False
            raise _OutOfOrder

    def _bisect(self, targets: list, low: int, high: int, below: Any, above: Any, out: list[int]):
        """Append to `out`, for each of the ascending `targets`, where the first key line with
        a key of that target or above starts (the file's length if none does).

        All of them lie from `low` to `high`: every key line before `low` has a key below the
        targets (`below` is the last such key compared, None if none was), every one from
        `high` on a key at or above them (`above`, likewise). Each key compared must fall
        between the two. The targets share the search until a key falls between them: then
        those at or below it go on before it (recursively), the others after it."""
        while low < high:
            entry = self._key_line.search(self.data, (low + high) // 2)
            if entry is None or entry.start() >= high:  # no key line starts in the upper half
                entry = self._key_line.search(self.data, low)
                if entry is None or entry.start() >= high:  # nor in the lower one: found
                    break
            key = self._order(entry.group(1))
            self.expect((below is None or below < key) and (above is None or key < above))
            split = bisect_right(targets, key)  # targets[:split] are at or below the key
            if split == len(targets):  # all of them: look before the key
                high, above = entry.start(), key
                continue
            if split:  # some of them: those before the key, the others after it
                self._bisect(targets[:split], low, entry.start(), below, key, out)
                targets = targets[split:]
            low, below = entry.start() + 1, key
        # check the boundary found against its neighbours: the key lines before and at it
        before, at = self._entry_before(low), self._key_line.search(self.data, low)
        self.expect(before is None or self._order(before.group(1)) < targets[0])
        self.expect(at is None or self._order(at.group(1)) >= targets[-1])
        out.extend([len(self.data) if at is None else at.start()] * len(targets))

    def _entry_before(self, position: int) -> re.Match[bytes] | None:
        """The last key line that starts before `position`, if any."""
        end = position + 1  # so that a newline right before `position` is found
        while (newline := self.data.rfind(b'\n"', 0, end)) != -1:
            if entry := self._key_line.match(self.data, newline):
                return entry
            end = newline + 1  # not a key line (a phrase's reading): look further back
        return None


@cache
def _sorted_phrases(path: Path) -> _SortedFile:
    return _SortedFile(path, _PHRASE_LINE, order=bytes)  # the phrase's UTF-8


@cache
def _sorted_readings(path: Path) -> _SortedFile:
    return _SortedFile(path, _READING_LINE, order=int)  # the code point


def _phrases_starting_with(characters: set[str], path: Path) -> dict[str, tuple[str, int]]:
    """The phrase dictionary's entries whose first character is one of `characters`: each
    phrase with the text that holds its readings and where they start in it."""
    if not characters or os.environ.get("PYPINYIN_NO_PHRASES"):  # pypinyin's own switch
        return {}
    if len(characters) <= _PHRASE_SEARCHES_AT_MOST:
        try:
            return _search_phrases(characters, _sorted_phrases(path))
        except _OutOfOrder:
            pass  # read the whole file instead
    return _scan_phrases(characters, path.read_bytes().decode("utf-8"))


def _search_phrases(characters: set[str], file: _SortedFile) -> dict[str, tuple[str, int]]:
    """`_phrases_starting_with` by bisection of the sorted file: a block per character."""
    # the keys that begin with c: from c itself up to the next character
    ranges = [(c.encode(), chr(ord(c) + 1).encode()) for c in sorted(characters)]
    found = {}
    for block in file.blocks(ranges):
        text = block.decode()
        entries = list(_PHRASE_KEY.finditer(text))
        phrases = [entry.group(1) for entry in entries]
        # the first is at least c and the last below the next character (checked where the
        # block was found): if they rise, every one begins with c
        file.expect(phrases == sorted(set(phrases)))
        found.update(zip(phrases, [(text, entry.end()) for entry in entries]))
    return found


def _scan_phrases(characters: set[str], text: str) -> dict[str, tuple[str, int]]:
    """`_phrases_starting_with` by one pass over the whole file's `text`, in any order."""
    # a class of the few characters a title has is quick; for many (or characters beyond
    # the BMP, which the class tests one by one) filtering every key is cheaper
    first = (
        f"[{''.join(map(re.escape, sorted(characters)))}]" if len(characters) <= 64 else '[^"\n]'
    )
    keys = re.compile(f'\n"({first}[^"\n]*)": (?=\\[)')
    found = {}
    for match in keys.finditer(text):
        if match.group(1)[0] in characters:
            found[match.group(1)] = (text, match.end())  # a later duplicate wins, as in json.loads
    return found


class _Phrases:
    """The phrase dictionary entries whose first character is one of a text's characters:
    enough to segment that text exactly as with the whole dictionary, since a word that
    starts at a character can only be a phrase beginning with it."""

    def __init__(self, found: dict[str, tuple[str, int]]):
        self.readings = found  # phrase -> (text, where its readings start in it)
        self._prefixes = {p[:n] for p in found for n in range(1, len(p) + 1)}

    def reading(self, phrase: str) -> list[list[str]]:
        """The phrase's readings: one list per character, the first one used."""
        text, start = self.readings[phrase]
        value, _ = json.JSONDecoder().raw_decode(text, start)
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
    if len(characters) <= _READING_SEARCHES_AT_MOST:
        try:
            return _search_readings(characters, _sorted_readings(path))
        except _OutOfOrder:
            pass  # read the whole file instead
    return _scan_readings(characters, path.read_bytes())


def _search_readings(characters: set[str], file: _SortedFile) -> dict[str, str]:
    """`_first_readings` by bisection of the sorted file: the entry of each code point."""
    codes = sorted(map(ord, characters))
    found = {}
    for code, block in zip(codes, file.blocks([(code, code + 1) for code in codes])):
        entries = _READING_LINE.findall(block)
        file.expect(len(entries) <= 1)  # one key a line, and its boundaries checked
        if entries:
            found[chr(code)] = json.loads(entries[0][1]).split(",")[0]
    return found


def _scan_readings(characters: set[str], data: bytes) -> dict[str, str]:
    """`_first_readings` by one pass over the whole file's `data`, in any order."""
    wanted = {ord(c) for c in characters}
    # naming the few characters a title needs is quick; for many, one pass over every
    # entry is cheaper than a long alternation
    codes = (
        b"|".join(str(code).encode() for code in sorted(wanted)) if len(wanted) <= 64 else rb"\d+"
    )
    entries = re.compile(rb'\n"(' + codes + rb')": ("(?:[^"\\\n]|\\.)*")')
    found = {}
    for match in entries.finditer(data):
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
