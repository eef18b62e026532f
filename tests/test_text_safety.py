"""Invisible characters, broken HTML references and repeated titles (issue 9.10, 9.14)."""

from __future__ import annotations

import datetime as dt

import pytest
from mutagen.id3 import ID3

from digest.article import parse_article
from digest.html_text import html_to_text
from digest.pipeline import BuildOptions, build_episode, prepare_script
from digest.reading import read_text
from digest.script import build_script
from digest.synthesis import RetryPolicy

INVISIBLE = [
    chr(c) for c in [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
]


def sprinkle(text: str) -> str:
    """`text` with every invisible character spread between its characters."""
    out = []
    for n, ch in enumerate(text):
        out.append(INVISIBLE[n % len(INVISIBLE)] + ch)
    return "".join(out) + "".join(INVISIBLE)


def spoken(article_text: str) -> list[str]:
    return [
        c for ch in build_script(parse_article(article_text), "zh-CN").chapters for c in ch.chunks
    ]


# --------------------------------------------------------------------------- 9.10


@pytest.mark.parametrize(
    "text, expected",
    [
        ("今天天气很好。\n", ["今天天气很好。"]),
        ("今天天气很好。明天下雨。\n", ["今天天气很好。明天下雨。"]),
        ("今天天气很好，明天下雨。\n", ["今天天气很好，明天下雨。"]),
        ("早间新闻\n\n今天天气很好。\n", ["早间新闻。今天天气很好。"]),  # a real title: spoken
        ("北京\n\n北京今天下雨。\n", ["北京。北京今天下雨。"]),  # not the same sentence
    ],
)
def test_a_title_taken_from_the_first_sentence_is_spoken_once(text, expected):
    assert spoken(text) == expected


# --------------------------------------------------------------------------- 9.14


def test_invisible_characters_never_reach_the_spoken_text(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(
        sprinkle("标题") + "\n\n" + sprinkle("今天气温二十五度。") + "\n", encoding="utf-8"
    )
    text = read_text(path)
    assert not any(ch in text for ch in INVISIBLE)
    assert spoken(text) == ["标题。今天气温二十五度。"]


def test_invisible_characters_never_reach_titles_tags_or_file_names(fake_edge, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("标题\n\n今天天气很好。\n", encoding="utf-8")
    options = BuildOptions(
        engine="edge",
        title=sprinkle("晨间新闻"),
        show=sprinkle("我的节目"),
        output_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        date=dt.date(2026, 3, 1),
        retry=RetryPolicy(attempts=2, base_delay=0.01, timeout=10),
    )
    result = build_episode(article, options)
    tag = ID3(result.files.mp3)
    assert tag["TIT2"].text[0] == "晨间新闻"
    assert tag["TPE1"].text[0] == tag["TALB"].text[0] == "我的节目"
    assert result.files.mp3.name == "2026-03-01-chen-jian-xin-wen.mp3"
    assert '"title": "晨间新闻"' in result.files.chapters.read_text(encoding="utf-8")
    assert [r.text for r in fake_edge.requests] == ["晨间新闻。今天天气很好。"]
    assert prepare_script(article, options).script.title == "晨间新闻"


@pytest.mark.parametrize(
    "ref", ["&#0;", "&#x0;", "&#xD800;", "&#55296;", "&#x110000;", "&#99999999999;"]
)
def test_html_references_to_no_character_are_dropped_not_turned_into_fffd(ref):
    text = html_to_text(f"<html><body><article><p>今天{ref}天气很好。</p></article></body></html>")
    assert "\ufffd" not in text
    assert "今天天气很好。" in text


def test_textarea_text_is_not_read():
    page = (
        "<html><body><article><p>正文第一段。</p>"
        "<textarea>请在这里留言，不要朗读。</textarea><p>正文第二段。</p></article></body></html>"
    )
    text = html_to_text(page)
    assert "留言" not in text
    assert "正文第一段。" in text and "正文第二段。" in text
