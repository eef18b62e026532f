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


# --- the bisection over the sorted files (digest.pinyin._SortedFile) ---


def installed() -> digest.pinyin._DataFiles:
    files = digest.pinyin._dictionaries()
    assert files is not None
    return files


def first_readings(characters) -> dict[str, str]:
    return {c: PINYIN_DICT[ord(c)].split(",")[0] for c in characters if ord(c) in PINYIN_DICT}


def phrases_of(characters) -> list[str]:
    return sorted(p for p in PHRASES_DICT if p[0] in characters)


def test_the_installed_dictionaries_are_sorted_as_the_search_expects():
    """The bisection relies on this order, and checks it only where it looks: a pypinyin
    release that writes its files otherwise fails here first."""
    files = installed()
    phrases = json.loads(files.phrases.read_text(encoding="utf-8"), object_pairs_hook=list)
    keys = [key.encode() for key, _ in phrases]  # compared as UTF-8 bytes
    assert len(keys) > 40_000
    assert keys == sorted(set(keys))
    readings = json.loads(files.characters.read_text(encoding="utf-8"), object_pairs_hook=list)
    codes = [int(key) for key, _ in readings]
    assert len(codes) > 40_000
    assert codes == sorted(set(codes))


SEARCH_EDGES = {
    "一": "the first phrase key's block, at the start of the file; 一个 begins the next key",
    "龟": "the last phrase key's block, at the end of the file",
    "〇": "before the first phrase key (no phrases); the first reading key",
    "丂": "no phrases, between two blocks",
    "丁": "a block right after another (一's)",
    "\U00020000": "beyond the BMP: after the last phrase key; a reading",
    "\U0002a6d6": "beyond the BMP, no reading",
    "\U00032389": "the last reading key",
    "\u3006": "before the first reading key (not Han: searched all the same)",
    "\U0003238a": "after the last reading key (not Han either)",
}


@pytest.mark.parametrize("character", SEARCH_EDGES)
def test_a_search_at_an_edge_finds_what_the_whole_file_holds(character):
    files = installed()
    phrase_file = digest.pinyin._sorted_phrases(files.phrases)
    reading_file = digest.pinyin._sorted_readings(files.characters)
    found = digest.pinyin._search_phrases({character}, phrase_file)
    assert list(found) == phrases_of(character)
    phrases = digest.pinyin._Phrases(found)
    assert all(phrases.reading(phrase) == PHRASES_DICT[phrase] for phrase in found)
    assert digest.pinyin._search_readings({character}, reading_file) == first_readings(character)
    assert phrase_file.in_order and reading_file.in_order


def test_the_edges_searched_together_find_what_each_finds_alone():
    files = installed()
    phrase_file = digest.pinyin._sorted_phrases(files.phrases)
    reading_file = digest.pinyin._sorted_readings(files.characters)
    characters = set(SEARCH_EDGES) | set("丂七丄丅丆万丈三")  # neighbouring code points
    assert list(digest.pinyin._search_phrases(characters, phrase_file)) == phrases_of(characters)
    assert digest.pinyin._search_readings(characters, reading_file) == first_readings(characters)


def test_a_phrase_that_begins_the_next_one():
    phrases = list(PHRASES_DICT)
    assert "一个" in phrases and "一个劲" in phrases
    for text in [
        "一个",
        "一个劲",
        "一个劲儿地跑",
        "一个人",
        "一丁不识",
        "龟龙麟凤",
        "〇丂𠀀\U00032389",
    ]:
        assert lazy_pinyin(text) == pypinyin.lazy_pinyin(text), text


def test_searches_find_every_entry_of_both_files():
    """Every character that has a reading or starts a phrase, and Han characters with
    neither, searched a thousand at a time (the most one call searches)."""
    files = installed()
    phrase_file = digest.pinyin._sorted_phrases(files.phrases)
    reading_file = digest.pinyin._sorted_readings(files.characters)
    listed = {chr(code) for code in PINYIN_DICT} | {phrase[0] for phrase in PHRASES_DICT}
    unlisted = {c for c in map(chr, range(0x3400, 0x32390, 31)) if RE_HANS.match(c)} - listed
    assert len(unlisted) > 100
    characters = sorted(listed | unlisted)
    random.Random(14).shuffle(characters)
    group_size = min(
        digest.pinyin._PHRASE_SEARCHES_AT_MOST, digest.pinyin._READING_SEARCHES_AT_MOST
    )
    for group in chunks(characters, group_size):
        found = digest.pinyin._search_phrases(set(group), phrase_file)
        assert list(found) == phrases_of(set(group))
        assert digest.pinyin._search_readings(set(group), reading_file) == first_readings(group)


@pytest.mark.parametrize("searches_at_most", [0, 10**6], ids=["scan", "search"])
def test_both_ways_to_find_entries_agree_with_pypinyin(monkeypatch, searches_at_most):
    """Whatever the number of characters, by full scan or by search."""
    monkeypatch.setattr(digest.pinyin, "_PHRASE_SEARCHES_AT_MOST", searches_at_most)
    monkeypatch.setattr(digest.pinyin, "_READING_SEARCHES_AT_MOST", searches_at_most)
    phrases = list(PHRASES_DICT)
    random.Random(15).shuffle(phrases)
    for text in ["".join(phrases[:500]), "\n".join(sample_lines()), "".join(POLYPHONES)]:
        assert lazy_pinyin(text) == pypinyin.lazy_pinyin(text)


def copies(tmp_path: Path, order) -> digest.pinyin._DataFiles:
    """pypinyin's two files, laid out as they are (json.dump with indent=0), with their
    entries in the order `order` gives the list of them."""
    files = installed()
    for source in (files.phrases, files.characters):
        entries = list(json.loads(source.read_text(encoding="utf-8")).items())
        text = json.dumps(dict(order(entries)), ensure_ascii=False, indent=0)
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    return digest.pinyin._DataFiles(tmp_path / files.phrases.name, tmp_path / files.characters.name)


def test_copies_in_the_same_order_are_the_same_bytes(tmp_path):
    """So that the reordered copies below differ from pypinyin's files in order only."""
    files, same = installed(), copies(tmp_path, lambda entries: entries)
    assert same.phrases.read_bytes() == files.phrases.read_bytes()
    assert same.characters.read_bytes() == files.characters.read_bytes()


def test_shuffled_files_are_caught_and_read_in_full(tmp_path):
    files = copies(tmp_path, lambda entries: random.Random(14).sample(entries, len(entries)))
    for text in POLYPHONES + MIXED + sample_lines()[:40]:
        assert digest.pinyin._lazy_pinyin(text, files) == pypinyin.lazy_pinyin(text), text
    assert not digest.pinyin._sorted_phrases(files.phrases).in_order
    assert not digest.pinyin._sorted_readings(files.characters).in_order


def test_two_keys_swapped_in_a_searched_block_are_caught(tmp_path):
    def swap_two_phrases(entries):
        keys = [key for key, _ in entries]
        if "重庆" in keys:
            i, j = keys.index("重庆"), keys.index("重新")
            entries[i], entries[j] = entries[j], entries[i]
        return entries

    files = copies(tmp_path, swap_two_phrases)
    text = "重庆银行行长重新开会"
    assert digest.pinyin._lazy_pinyin(text, files) == pypinyin.lazy_pinyin(text)
    assert not digest.pinyin._sorted_phrases(files.phrases).in_order
    assert digest.pinyin._sorted_readings(files.characters).in_order


def test_files_with_escaped_keys_fall_back_to_pypinyin(tmp_path, monkeypatch):
    """json's ensure_ascii writes keys as \\uXXXX: neither found nor ordered as read here."""
    (tmp_path / "phrases_dict.json").write_text(
        json.dumps({"重庆": [["chóng"], ["qìng"]]}, ensure_ascii=True, indent=0)
    )
    (tmp_path / "pinyin_dict.json").write_text(json.dumps({"37325": "zhòng,chóng"}, indent=0))
    spec = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(digest.pinyin, "find_spec", lambda name: spec)
    digest.pinyin._dictionaries.cache_clear()
    try:
        assert digest.pinyin._dictionaries() is None
    finally:
        digest.pinyin._dictionaries.cache_clear()
