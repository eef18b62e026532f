"""Transcripts: written sentences timed by spoken characters; VTT/SRT writing and reading."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from mutagen.id3 import ID3
from typer.testing import CliRunner

from digest.article import parse_article
from digest.cli import app
from digest.engines.base import Boundary
from digest.script import build_script, split_written
from digest.transcripts import (
    TimedChunk,
    TimedLine,
    char_times,
    is_speakable_char,
    parse_vtt,
    plain_text,
    srt,
    time_lines,
    vtt,
)


def test_script_keeps_each_written_sentence_beside_its_spoken_form():
    article = parse_article(
        "标题\n\n一、数字\n2035 年营收 1.4 兆美元！详见 https://a.example/x?y=1 。\n"
    )
    script = build_script(article, "zh-CN")
    lines = [(line.written, line.spoken) for c in script.chapters for line in c.lines]
    assert ("2035 年营收 1.4 兆美元！", "二零三五年营收一点四万亿美元！") in lines
    assert any(w == "详见 https://a.example/x?y=1 。" for w, _ in lines)
    spoken = "".join(c for chapter in script.chapters for c in chapter.chunks)
    assert "二零三五年" in spoken
    assert lines[0][0] == "标题"  # a heading shows without the full stop added for the voice


def test_split_written_keeps_urls_whole():
    assert split_written("看 www.x.com/a?b!c 好吗？好！") == ["看 www.x.com/a?b!c 好吗？", "好！"]


def test_a_speakable_character_is_a_letter_or_a_digit_at_every_code_point():
    """`is_speakable_char` is `str.isalnum`, which must mean Unicode categories L and N
    exactly, on this Python's Unicode version too."""
    import unicodedata

    for point in range(sys.maxunicode + 1):
        ch = chr(point)
        assert is_speakable_char(ch) == (unicodedata.category(ch)[0] in "LN"), hex(point)


def test_characters_take_their_boundarys_time_and_gaps_are_spread():
    chunk = TimedChunk(
        text="一二三。四五。",
        offset=10.0,
        duration=5.0,
        boundaries=(Boundary(0.0, 3.0, "一二三。"), Boundary(3.5, 4.5, "unrelated")),
    )
    times = char_times(chunk)
    assert times[:3] == [(10.0, 11.0), (11.0, 12.0), (12.0, 13.0)]
    # 四五 matched no boundary: spread between 13.0 and the clip's end (15.0)
    assert times[3:] == [(13.0, 14.0), (14.0, 15.0)]


def test_time_lines_follow_spoken_characters_across_chunks():
    chunks = [
        TimedChunk("二零二五年好。", 0.0, 6.0, (Boundary(0.0, 6.0, "二零二五年好。"),)),
        TimedChunk("再见。", 7.0, 2.0, (Boundary(0.0, 2.0, "再见。"),)),
    ]
    lines = [("2025年好。", "二零二五年好。"), ("……", "……"), ("再见。", "再见。")]
    timed = time_lines(lines, chunks)
    assert timed == [TimedLine(0.0, 6.0, "2025年好。……"), TimedLine(7.0, 9.0, "再见。")]


def test_vtt_and_srt_escape_and_keep_one_line_per_cue():
    cues = [
        TimedLine(0.5, 2.25, "A & B <i>x</i>\n\nnext --> on\x07"),
        TimedLine(3.0, 3.0, "zero length, dropped"),
        TimedLine(3723.004, 3724.5, "第二句"),
    ]
    text = vtt(cues)
    assert text == (
        "WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.250\nA &amp; B &lt;i&gt;x&lt;/i&gt; next → on\n\n"
        "2\n01:02:03.004 --> 01:02:04.500\n第二句\n"
    )
    assert srt(cues) == (
        "1\n00:00:00,500 --> 00:00:02,250\nA & B <i>x</i> next → on\n\n"
        "2\n01:02:03,004 --> 01:02:04,500\n第二句\n"
    )
    assert parse_vtt(text) == [
        TimedLine(0.5, 2.25, "A & B <i>x</i> next → on"),
        TimedLine(3723.004, 3724.5, "第二句"),
    ]
    assert plain_text(cues) == "A & B <i>x</i> next → on\n第二句"


@pytest.fixture(scope="module")
def offline_build(tmp_path_factory):
    """One short episode with the offline engine, through the CLI, published in the same run."""
    root = tmp_path_factory.mktemp("transcripts")
    article = root / "article.txt"
    article.write_text(
        "夜间快讯\n\n气温 -3℃，风速 12 m/s。\n\n一、交通\n3 号线 22:30 停运。\n\n二、天气\n明天晴。\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(root / "show"), "--name", "夜间快讯台"]).exit_code == 0
    result = runner.invoke(
        app,
        [
            "build", str(article), "-o", str(root / "out"), "--engine", "offline",
            "--cache-dir", str(root / "cache"), "--date", "2026-11-29", "--quiet",
            "--publish", str(root / "show"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


def test_build_writes_vtt_and_uslt_in_the_articles_wording(offline_build):
    [mp3] = (offline_build / "out").glob("*.mp3")
    captions = mp3.with_suffix(".vtt").read_text(encoding="utf-8")
    cues = parse_vtt(captions)
    assert [c.text for c in cues] == [
        "夜间快讯",
        "气温 -3℃，风速 12 m/s。",
        "交通",
        "3 号线 22:30 停运。",
        "天气",
        "明天晴。",
    ]
    assert cues[0].start >= 0.5 and all(a.end <= b.start + 1e-6 for a, b in zip(cues, cues[1:]))
    [uslt] = ID3(mp3).getall("USLT")
    assert (
        uslt.text == "夜间快讯\n气温 -3℃，风速 12 m/s。\n交通\n3 号线 22:30 停运。\n天气\n明天晴。"
    )


def test_build_publish_puts_the_episode_in_the_show(offline_build):
    show = offline_build / "show"
    names = sorted(p.name for p in (show / "episodes").iterdir())
    assert len(names) == 4 and all(n.startswith("2026-11-29-") for n in names)
    assert (show / "feed.xml").is_file() and (show / "index.html").is_file()
    tag = ID3(next((show / "episodes").glob("*.mp3")))
    assert str(tag["TPE1"].text[0]) == "夜间快讯台"  # the show file's name, not the default
    assert tag.getall("TGID")
    assert dt.date.fromisoformat(names[0][:10]) == dt.date(2026, 11, 29)
