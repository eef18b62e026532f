"""Exact-output cases for the speech normalizer, read from tests/normalize_cases/*.tsv.

Each non-comment line is `locale<TAB>input<TAB>expected`, optionally followed by
`<TAB>known: reason` for a case the normalizer still gets wrong (a strict xfail: it fails
the suite as soon as it starts passing, so the marker gets removed). style_guide.tsv holds
every example of the style guide verbatim; heldout_*.tsv are realistic news sentences whose
expectations were written from the style guide before the normalizer was run on them; the
other files are our own cases per category.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.normalization import normalize, violations
from digest.normalization.conversion import convert_script

CASES_DIR = Path(__file__).parent / "normalize_cases"


def _load() -> list:
    cases = []
    for path in sorted(CASES_DIR.glob("*.tsv")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            locale, text, expected, *known = line.split("\t")
            marks = [pytest.mark.xfail(strict=True, reason=known[0])] if known else []
            cases.append(
                pytest.param(locale, text, expected, id=f"{path.stem}:{number}", marks=marks)
            )
    return cases


CASES = _load()


def test_enough_cases() -> None:
    assert len(CASES) >= 300


def test_fresh_context_set() -> None:
    """The §5 sentence set (issue 10) is large, in both scripts, and has no known failures."""
    fresh = [c for c in CASES if c.id.startswith("fresh3:")]
    assert len(fresh) >= 150
    assert not [c for c in fresh if c.marks]
    assert any(c.values[0] == "zh-TW" for c in fresh)
    assert sum(1 for c in fresh if c.values[1] != convert_script(c.values[1], True)) >= 30


def test_heldout_set() -> None:
    """The held-out news set is large and mostly passing (known failures are marked)."""
    heldout = [c for c in CASES if c.id.startswith("heldout_")]
    known = [c for c in heldout if c.marks]
    assert len(heldout) >= 200
    assert len(known) <= len(heldout) * 0.05


@pytest.mark.parametrize("locale,text,expected", CASES)
def test_exact_output(locale: str, text: str, expected: str) -> None:
    assert normalize(text, locale) == expected


@pytest.mark.parametrize("locale,text,expected", [pytest.param(*c.values, id=c.id) for c in CASES])
def test_idempotent(locale: str, text: str, expected: str) -> None:
    assert normalize(expected, locale) == expected


@pytest.mark.parametrize(
    "locale,text,expected", [c for c in CASES if c.values[0] == "zh-CN" and not c.marks]
)
def test_zh_cn_contract(locale: str, text: str, expected: str) -> None:
    """The normalizer's actual output meets the zh-CN contract (§1.2), whatever was expected."""
    assert violations(normalize(text, locale)) == []
