"""digest.pinyin gives exactly pypinyin's `lazy_pinyin`, and so the same episode file names.

Every check compares with pypinyin itself, imported here (the tests may pay for it): on the
sample articles, the normalization cases, polyphones, mixed scripts, every phrase and every
character of its dictionaries, and random strings.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pypinyin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS, Style
from pypinyin.phonetic_symbol import phonetic_symbol
from pypinyin.style import convert

import digest.pinyin
from digest.outputs import slugify
from digest.pinyin import lazy_pinyin

TESTS = Path(__file__).parent

POLYPHONES = [
    "重庆", "重新", "重要", "银行", "行长", "行走", "长大", "长江", "音乐", "快乐", "乐乐",
    "重庆银行行长长大了", "音乐快乐", "还是还钱", "了解了", "便宜", "方便", "单于", "朝阳",
    "朝代", "调查", "调和", "都市", "都是", "会计", "开会", "觉得", "睡觉", "数数", "数学",
    "地方", "慢慢地", "的确", "目的", "大夫", "大学", "长城很长", "中国人民银行行长",
    "一丁点儿", "一行人", "差不多", "出差", "参差", "着急", "看着", "着落", "传记", "传说",
    "曾经", "曾子", "解放", "姓解", "薄荷", "单薄", "血液", "流血了", "发展中国家", "和平",
    "和面", "暖和", "不要", "不对", "一个", "一样", "嗯", "呣", "哼", "欸", "〇", "㐀", "𠀀",
]  # fmt: skip
MIXED = [
    "", " ", "abc", "GPT-4 在 2035 年，臺灣", "AI 浪潮下的 iPhone 16 发布会 🎉🎉",
    "2024年Q3财报：营收+12.5%", "《长安十二时辰》第1集", "C++与Rust：谁更安全？",
    "Meta 的 AI 人才战", "emoji 🚀 火箭 🚀", "全角ＡＢＣ１２３和半角", "ｅｖ市场", "Ünïcödé 与中文",
    "tab\t分隔\n换行", "中\u200b间", "『引号』「书名」", "…省略号……", "〇〇七", "\U0002a6d6字",
    "日本語のテキストと漢字", "한국어 문장", "Ελληνικά 与 русский", "9秒83", "1/2 + 3/4",
]  # fmt: skip


def sample_lines() -> list[str]:
    """Every line of the sample articles: titles, headings and paragraphs."""
    return [
        line
        for path in sorted((TESTS / "data").iterdir())
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def case_files() -> list[str]:
    """Each normalization case file as one text (a line break ends every run of characters,
    so pypinyin reads each line of it as it would alone)."""
    return [
        path.read_text(encoding="utf-8")
        for path in sorted((TESTS / "normalize_cases").glob("*.tsv"))
    ]


def test_the_light_reader_is_used_with_the_installed_pypinyin():
    """Otherwise every check below would only compare pypinyin with its own fallback."""
    assert digest.pinyin._dictionaries() is not None


def test_the_han_characters_are_pypinyins():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    ours = {i for m in digest.pinyin._RUN.finditer(everything) for i in range(*m.span())}
    theirs = {ord(c) for c in everything if RE_HANS.match(c)}
    assert len(theirs) > 90_000
    assert ours == theirs


def test_tone_marks_are_removed_as_pypinyins_normal_style_does():
    readings = set(phonetic_symbol) | {r for v in PINYIN_DICT.values() for r in v.split(",")}
    readings |= {r for value in PHRASES_DICT.values() for item in value for r in item}
    readings |= {"m̄a", "ê̌", "ê̄n", "ḿ2", "lüè"}
    assert len(readings) > 1500
    for reading in readings:
        assert digest.pinyin._toneless(reading) == convert(reading, Style.NORMAL, True), reading


@pytest.mark.parametrize("text", POLYPHONES + MIXED)
def test_polyphones_and_mixed_scripts(text):
    assert lazy_pinyin(text) == pypinyin.lazy_pinyin(text)


def test_every_line_of_the_samples():
    lines = sample_lines()
    assert len(lines) > 100
    for line in lines:
        assert lazy_pinyin(line) == pypinyin.lazy_pinyin(line), line


def test_every_normalization_case():
    texts = case_files()
    assert sum(text.count("\n") for text in texts) > 1000
    for text in texts:
        assert lazy_pinyin(text) == pypinyin.lazy_pinyin(text)


def chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def test_every_phrase_alone_and_run_together():
    phrases = list(PHRASES_DICT)
    random.Random(14).shuffle(phrases)
    for group in chunks(phrases, 2000):
        apart = "，".join(group)  # each phrase its own run
        assert lazy_pinyin(apart) == pypinyin.lazy_pinyin(apart)
        together = "".join(group[:300])  # phrases overlapping at the joins
        assert lazy_pinyin(together) == pypinyin.lazy_pinyin(together)


def test_every_character_alone_and_run_together():
    characters = [chr(code) for code in PINYIN_DICT]
    random.Random(14).shuffle(characters)
    for group in chunks(characters, 4000):
        for text in (" ".join(group), "".join(group)):
            assert lazy_pinyin(text) == pypinyin.lazy_pinyin(text)


def test_han_characters_without_a_reading_pass_through():
    unread = [c for c in "\u3400\ue815\ufa18\U0002a6d6\U00031350" if ord(c) not in PINYIN_DICT]
    assert unread
    text = "".join(unread) + "中" + unread[0]
    assert lazy_pinyin(text) == pypinyin.lazy_pinyin(text)


ALPHABET = st.sampled_from("".join(POLYPHONES) + "的一是在不了有和人这中大为上个国我以要他")
TEXTS = st.text(
    alphabet=st.one_of(
        ALPHABET,
        ALPHABET,
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(max_codepoint=0x7F),
        st.sampled_from("，。！？、：；“”《》…—　🎉１２ＡＢ"),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_random_cjk_and_ascii(text):
    assert lazy_pinyin(text) == pypinyin.lazy_pinyin(text)


def test_slugs_are_the_same_as_with_pypinyin(monkeypatch):
    titles = POLYPHONES + MIXED + sample_lines()
    light = [slugify(t) for t in titles]
    monkeypatch.setattr(digest.pinyin, "lazy_pinyin", pypinyin.lazy_pinyin)
    assert light == [slugify(t) for t in titles]
    assert "zhong-guo-ren-min-yin-hang-hang-zhang" in light


def test_pypinyins_switch_for_no_phrases_is_followed():
    """PYPINYIN_NO_PHRASES=1 makes pypinyin read every character alone: so does the reader."""
    code = (
        "import pypinyin, digest.pinyin as p\n"
        "for t in ['重庆银行行长', '音乐快乐 ok']:\n"
        "    assert p.lazy_pinyin(t) == pypinyin.lazy_pinyin(t), t\n"
        "assert p.lazy_pinyin('重庆') == ['zhong', 'qing']\n"
    )
    environment = dict(os.environ, PYPINYIN_NO_PHRASES="1")
    subprocess.run([sys.executable, "-c", code], env=environment, check=True)


@pytest.mark.parametrize("indent", [None, 2])
def test_files_laid_out_otherwise_fall_back_to_pypinyin(tmp_path, monkeypatch, indent):
    """A pypinyin whose JSON is written another way is not misread: it is used itself."""
    (tmp_path / "phrases_dict.json").write_text(
        json.dumps({"重庆": [["chóng"], ["qìng"]]}, ensure_ascii=False, indent=indent)
    )
    (tmp_path / "pinyin_dict.json").write_text(json.dumps({"37325": "zhòng,chóng"}, indent=indent))
    spec = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(digest.pinyin, "find_spec", lambda name: spec)
    digest.pinyin._dictionaries.cache_clear()
    try:
        assert digest.pinyin._dictionaries() is None
        assert lazy_pinyin("重庆银行") == pypinyin.lazy_pinyin("重庆银行")
    finally:
        digest.pinyin._dictionaries.cache_clear()


def test_naming_a_file_does_not_import_pypinyin():
    code = (
        "import sys, datetime\n"
        "from digest.outputs import episode_stem\n"
        "stem = episode_stem('重庆银行行长谈音乐', datetime.date(2026, 1, 2))\n"
        "assert stem == '2026-01-02-chong-qing-yin-hang-hang-zhang-tan-yin-yue', stem\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'pypinyin']\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
