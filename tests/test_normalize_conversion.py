"""The fast t2s path, and s2t/s2tw read from OpenCC's files, give exactly OpenCC's output;
zh-TW keeps Traditional input."""

from __future__ import annotations

import random
from pathlib import Path

import opencc
import pytest

from digest.normalization.base import MEASURE_WORD_CHARS
from digest.normalization.conversion import _t2s_tables, convert_script, to_simplified
from digest.normalization.dictionaries import phrase_table, to_taiwan_traditional, to_traditional
from digest.normalization.lexicon import cues_of, default_lexicon

ROOT = Path(__file__).parent
_OPENCC = opencc.OpenCC("t2s")


def _corpus() -> list[str]:
    lines = []
    for path in sorted((ROOT / "data").glob("*")):
        if path.suffix in (".txt", ".md"):
            lines += path.read_text(encoding="utf-8").splitlines()
    for path in sorted((ROOT / "normalize_cases").glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                lines += line.split("\t")[1:3]
    return lines


def test_same_as_opencc_on_articles_and_cases() -> None:
    lines = _corpus()
    assert len(lines) > 500
    for line in lines:
        assert to_simplified(line) == _OPENCC.convert(line), line
    # whole articles too (line breaks and all)
    for path in sorted((ROOT / "data").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert to_simplified(text) == _OPENCC.convert(text)


@pytest.mark.parametrize("seed", range(4))
def test_same_as_opencc_on_random_text(seed: int) -> None:
    """Random mixes of OpenCC's own phrases, its characters, punctuation and ASCII."""
    table, phrases, _, _ = _t2s_tables()
    rng = random.Random(seed)
    keys = sorted(phrases)
    chars = sorted({c for k in keys for c in k} | {chr(c) for c in rng.sample(sorted(table), 400)})
    chars += list("，。、 -.的是台於1aZ")
    for _ in range(1500):
        text = "".join(
            rng.choice(keys) if rng.random() < 0.3 else rng.choice(chars)
            for _ in range(rng.randint(1, 16))
        )
        assert to_simplified(text) == _OPENCC.convert(text), text


def test_zh_tw_keeps_traditional_and_converts_simplified() -> None:
    assert convert_script("台積電營收", mainland=False) == "台積電營收"  # not 臺積電
    assert convert_script("颱風來襲", mainland=False) == "颱風來襲"
    assert convert_script("台风来袭", mainland=False) == opencc.OpenCC("s2tw").convert("台风来袭")


# --- s2t and s2tw read from OpenCC's files (the cue words' Traditional spellings) ----------
_S2T = opencc.OpenCC("s2t")
_S2TW = opencc.OpenCC("s2tw")


def test_traditional_spellings_same_as_opencc_on_cue_words_and_articles() -> None:
    words = [w for _, ws in cues_of(default_lexicon()) for w in ws]
    words += list(default_lexicon()) + list(MEASURE_WORD_CHARS)
    lines = [to_simplified(line) for line in _corpus()]  # Simplified input, as the cues are
    assert len(words) > 300 and len(lines) > 500
    for text in words + lines:
        assert to_traditional(text) == _S2T.convert(text), text
        assert to_taiwan_traditional(text) == _S2TW.convert(text), text


@pytest.mark.parametrize("seed", range(3))
def test_traditional_spellings_same_as_opencc_on_random_text(seed: int) -> None:
    """Random mixes of STPhrases phrases (overlapping ones included), characters with several
    Traditional forms (干 发 面), Taiwan variants, punctuation and ASCII."""
    phrases = sorted(phrase_table("STPhrases.txt"))
    rng = random.Random(seed)
    chars = sorted({c for k in rng.sample(phrases, 3000) for c in k})
    chars += list("干发面里台才后着为么线，。、 -.的是1aZ")
    for _ in range(1500):
        text = "".join(
            rng.choice(phrases) if rng.random() < 0.3 else rng.choice(chars)
            for _ in range(rng.randint(1, 16))
        )
        assert to_traditional(text) == _S2T.convert(text), text
        assert to_taiwan_traditional(text) == _S2TW.convert(text), text
