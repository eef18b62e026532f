"""Exact-output cases for the speech normalizer, read from tests/normalize_cases/*.tsv.

Each non-comment line is `locale<TAB>input<TAB>expected`. style_guide.tsv holds every
example of the style guide verbatim; the other files are our own cases per category.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.normalize import normalize, violations

CASES_DIR = Path(__file__).parent / "normalize_cases"


def _load() -> list:
    cases = []
    for path in sorted(CASES_DIR.glob("*.tsv")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            locale, text, expected = line.split("\t")
            cases.append(pytest.param(locale, text, expected, id=f"{path.stem}:{number}"))
    return cases


CASES = _load()


def test_enough_cases() -> None:
    assert len(CASES) >= 300


@pytest.mark.parametrize("locale,text,expected", CASES)
def test_exact_output(locale: str, text: str, expected: str) -> None:
    assert normalize(text, locale) == expected


@pytest.mark.parametrize("locale,text,expected", CASES)
def test_idempotent(locale: str, text: str, expected: str) -> None:
    assert normalize(expected, locale) == expected


@pytest.mark.parametrize("locale,text,expected", [c for c in CASES if c.values[0] == "zh-CN"])
def test_zh_cn_contract(locale: str, text: str, expected: str) -> None:
    assert violations(expected) == []
