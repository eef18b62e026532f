"""Characters that must never reach a title, a tag, a file name or the voice.

Zero-width characters and bidirectional overrides are invisible: in a title
they make two identical-looking episodes differ, reorder text in players
("Trojan Source"), and the voice either stumbles on them or they split
numbers the normalizer should have read as one.
"""

from __future__ import annotations

import re

# U+200B-U+200F zero-width space/non-joiner/joiner, LRM, RLM; U+202A-U+202E
# embeddings and overrides; U+2060 word joiner; U+2066-U+2069 isolates;
# U+FEFF a byte-order mark inside the text (a zero-width no-break space).
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def strip_invisible(text: str) -> str:
    """`text` without zero-width characters and bidi controls."""
    return INVISIBLE.sub("", text)
