"""Property tests: the zh-CN contract holds on generated news-like text, and nothing raises."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.normalization import normalize
from digest.normalization.protect import mask_latin_sentences

_DIGIT = re.compile(r"[0-9]")

# Pieces of news text: Chinese words, numbers in every shape the rules know, symbols, Latin.
_WORDS = st.sampled_from(
    [
        "营收",
        "同比增长",
        "约",
        "达",
        "年",
        "月",
        "日",
        "人",
        "元",
        "美元",
        "亿",
        "万",
        "兆",
        "比分",
        "第",
        "气温",
        "拨打",
        "于",
        "至",
        "到",
        "，",
        "。",
        "的",
        "大胜",
        "专线",
        "成绩为",
        "度",
        "个百分点",
        "倍",
        "GPT",
        "RTX",
        "iPhone",
        "Meta",
        " ",
        "（",
        "）",
        "(",
        ")",
        "：",
        "后",
        "双",
        "公元",
        "号",
        "点",
        "又",
        "占",
        "的",
    ]
)
_NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=10**18).map(str),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda f: f"{f:.3f}"),
    st.integers(min_value=0, max_value=10**9).map(lambda n: f"{n:,}"),
    st.from_regex(r"\A[0-9]{1,4}[-–—~～/:.·][0-9]{1,4}\Z"),
    st.from_regex(r"\A[0-9]{3,4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}\Z"),
    st.from_regex(r"\A\+?[0-9]{2,4}[- ][0-9]{3,4}[- ][0-9]{3,4}\Z"),
)
_SYMBOLS = st.sampled_from(
    [
        "%",
        "％",
        "‰",
        "‱",
        "℃",
        "°C",
        "°F",
        "°",
        "$",
        "US$",
        "NT$",
        "¥",
        "€",
        "£",
        "₩",
        "±",
        "×",
        "÷",
        "≥",
        "≤",
        "≠",
        "≈",
        "~",
        "～",
        "–",
        "—",
        "−",
        "-",
        "+",
        "/",
        "=",
        "<",
        ">",
        "^",
        "²",
        "³",
        "km",
        "m²",
        "kg",
        "mAh",
        "GB",
        "B",
        "G",
        "x",
        "m",
        "s",
        "①",
        "０",
        "９",
        "５",
    ]
)
_PIECE = st.one_of(_WORDS, _NUMBERS, _SYMBOLS)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECE, min_size=1, max_size=12).map("".join))
def test_no_digit_survives_for_zh_cn(text: str) -> None:
    out = normalize(text, "zh-CN")
    # a Latin-only span (no CJK, ≥4 Latin words) keeps its digits (style guide §4.3)
    assert not _DIGIT.search(mask_latin_sentences(out, [])), (text, out)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECE, min_size=1, max_size=12).map("".join))
def test_output_is_stable(text: str) -> None:
    once = normalize(text, "zh-CN")
    assert normalize(once, "zh-CN") == once


_PLAIN = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Nd", "No", "Nl", "Sc", "Sm", "So"),
        exclude_characters="%‰‱°/+-−=<>^~～〜–—:：.@兆",
    ),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "今天",
                "天气",
                "很好",
                "，",
                "。",
                "Meta",
                " ",
                "公司",
                "表示",
                "市场",
                "AI",
                "的",
                "Wi-Fi",
            ]
        ),
        max_size=15,
    ).map("".join)
)
def test_simplified_text_without_numbers_is_unchanged(text: str) -> None:
    assert normalize(text, "zh-CN") == text


@settings(max_examples=300, deadline=None)
@given(_PLAIN)
def test_text_without_digits_or_symbols_only_changes_script(text: str) -> None:
    from digest.normalization.conversion import convert_script, particle_zhe
    from digest.normalization.lexicon import default_lexicon

    # Simplified-only or script-neutral text comes back byte for byte; the script step of
    # a zh-CN target includes writing the particle 著 as 着 (§ issue 10)
    keep = dict(default_lexicon().cues)["keep_zhu"]
    assert normalize(text, "zh-CN") == particle_zhe(convert_script(text, mainland=True), keep)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_never_raises_on_arbitrary_unicode(text: str) -> None:
    for locale in ("zh-CN", "zh-TW", "zh-HK", "zh-CN-liaoning"):
        assert isinstance(normalize(text, locale), str)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_PIECE, st.text(max_size=3)), max_size=10).map("".join))
def test_never_raises_on_number_soup(text: str) -> None:
    normalize(text, "zh-CN")
    normalize(text, "zh-TW")
