"""A show of three published episodes, read back by the parsers podcast apps use.

The episodes are built once per session with the offline engine (see the
`published_show` fixture) and have hostile titles: markup, ampersands,
quotes, emoji, right-to-left text, a CDATA terminator, a control character.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import io
import json
import os
import re
import shutil
import stat
import uuid
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree
from mutagen.id3 import ID3
from PIL import Image
from typer.testing import CliRunner

from digest.cli import app
from digest.feed import PODCAST, write_feed
from digest.feed_check import check_show
from digest.mp3 import id3v2_end
from digest.outputs import clean_title
from digest.publish import (
    PODCAST_GUID_NAMESPACE,
    episode_guid,
    list_episodes,
    open_show,
    publish_episode,
    read_episode,
    stamp_tag,
)
from digest_testing.show import BASE_URL, HOSTILE_TITLES

FEED_URL = f"{BASE_URL}/feed.xml"
# Newest first: the two episodes of 11-28 in the order they were published, reversed.
EXPECTED_ORDER = [clean_title(HOSTILE_TITLES[i]) for i in (2, 1, 0)]


@pytest.fixture(scope="module")
def show(published_show):
    show_dir, built = published_show
    return show_dir, built, (show_dir / "feed.xml").read_bytes()


@pytest.fixture
def show_copy(published_show, tmp_path):
    show_dir, _ = published_show
    copy = tmp_path / "show"
    shutil.copytree(show_dir, copy)
    return copy


def title_of(entry) -> str:
    # feedparser guesses whether an RSS title is HTML; text that looks like markup
    # ("<b>") is then returned escaped as HTML, which unescapes to the same text.
    value = entry.title
    return html.unescape(value) if entry.title_detail.type == "text/html" else value


def test_show_folder_layout_and_permissions(show):
    show_dir, built, _ = show
    names = sorted(p.name for p in (show_dir / "episodes").iterdir())
    stems = [p.stem for p in built]
    assert names == sorted(
        f"{s}{x}" for s in stems for x in (".mp3", ".chapters.json", ".vtt", ".srt")
    )
    for path in [show_dir / "feed.xml", show_dir / "index.html", show_dir / "cover.png"] + [
        show_dir / "episodes" / n for n in names
    ]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o666 & ~_umask(), (path.name, oct(mode))
    assert not list(show_dir.rglob("*.tmp"))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_feed_is_valid_xml_with_the_four_namespaces(show):
    _, _, data = show
    root = etree.fromstring(data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert set(root.nsmap.values()) >= {
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
        "https://podcastindex.org/namespace/1.0",
        "http://purl.org/rss/1.0/modules/content/",
        "http://podlove.org/simple-chapters",
    }
    assert b"\x07" not in data  # the control character in a title is gone, the XML valid


def test_channel_in_feedparser(show):
    _, _, data = show
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    feed = parsed.feed
    assert feed.title == '测试 & <早间> "简报" 🎧'
    assert feed.subtitle == "每天早上的城市新闻 & 天气"
    assert feed.language == "zh-cn"
    assert feed.author == "digest 测试"
    assert feed.publisher_detail == {"name": "digest 测试", "email": "owner@example.com"}
    assert feed.image.href == f"{BASE_URL}/cover.png"
    assert [t.term for t in feed.tags] == ["News", "Daily News"]
    assert feed.itunes_block == 1  # private by default
    assert feed.podcast_locked == {"owner": "owner@example.com"}
    expected_guid = uuid.uuid5(PODCAST_GUID_NAMESPACE, "podcasts.example.com/morning/feed.xml")
    assert feed.podcast_guid == str(expected_guid)


def test_channel_raw_fields_feedparser_does_not_keep(show):
    _, _, data = show
    channel = etree.fromstring(data).find("channel")
    itunes = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
    assert channel.findtext(f"{itunes}explicit") == "false"
    assert channel.findtext(f"{{{PODCAST}}}locked") == "yes"
    assert channel.findtext(f"{itunes}block") == "Yes"


def test_items_in_feedparser(show):
    show_dir, _, data = show
    parsed = feedparser.parse(data)
    entries = parsed.entries
    assert [title_of(e) for e in entries] == EXPECTED_ORDER
    guids = [e.id for e in entries]
    assert len(set(guids)) == 3
    dates = [email.utils.parsedate_to_datetime(e.published) for e in entries]
    assert dates == sorted(dates, reverse=True)
    assert dates[2] == dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    # two episodes of one day keep their publishing order, a minute apart
    assert dates[0] - dates[1] == dt.timedelta(minutes=1)
    for entry, episode in zip(entries, list_episodes(show_dir, open_show(show_dir))):
        enclosure = next(link for link in entry.links if link.rel == "enclosure")
        assert enclosure.href == f"{BASE_URL}/episodes/{episode.mp3.name}"
        assert int(enclosure.length) == episode.mp3.stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert entry.itunes_duration == str(round(episode.duration))
        assert entry.podcast_chapters == {
            "url": f"{BASE_URL}/episodes/{episode.stem}.chapters.json",
            "type": "application/json+chapters",
        }
        lines = entry.summary.split("\n")
        chapter_lines = [line for line in lines if re.match(r"^\d\d:\d\d ", line)]
        assert len(chapter_lines) == len(episode.chapters) == 4
        assert chapter_lines[0].startswith("00:00 ")
        assert [line[6:] for line in chapter_lines[1:]] == ["交通", "社区", "天气"]
        notes = entry.content[0]
        assert notes.type == "text/html" and "<ul>" in notes.value and "交通" in notes.value


def test_transcript_links_both_formats_with_language(show):
    _, _, data = show
    for item in etree.fromstring(data).find("channel").findall("item"):
        transcripts = item.findall(f"{{{PODCAST}}}transcript")
        assert [(t.get("type"), t.get("language")) for t in transcripts] == [
            ("text/vtt", "zh-cn"),
            ("application/x-subrip", "zh-cn"),
        ]
        assert all(t.get("url").startswith(f"{BASE_URL}/episodes/") for t in transcripts)


def test_items_in_podcastparser(show):
    show_dir, _, data = show
    parsed = podcastparser.parse(FEED_URL, io.BytesIO(data))
    assert parsed["title"] == '测试 & <早间> "简报" 🎧'
    assert parsed["itunes_owner"] == {"name": "digest 测试", "email": "owner@example.com"}
    assert parsed["itunes_categories"] == [["News", "Daily News"]]
    assert parsed["explicit"] is False
    assert parsed["cover_url"] == f"{BASE_URL}/cover.png"
    assert parsed["language"] == "zh-cn"
    episodes = parsed["episodes"]
    assert [e["title"] for e in episodes] == EXPECTED_ORDER
    for parsed_episode, episode in zip(episodes, list_episodes(show_dir, open_show(show_dir))):
        assert parsed_episode["guid"] == episode.guid
        assert parsed_episode["enclosures"][0]["file_size"] == episode.mp3.stat().st_size
        assert parsed_episode["total_time"] == round(episode.duration)
        # podcastparser reads chapters from psc:chapters (whole seconds)
        assert [c["title"] for c in parsed_episode["chapters"]] == [
            c.title for c in episode.chapters
        ]
        assert [c["start"] for c in parsed_episode["chapters"]] == [
            int(c.start) for c in episode.chapters
        ]
        # ... and ignores podcast:* under the official namespace URI (documented choice)
        assert "transcript_url" not in parsed_episode
        assert "chapters_json_url" not in parsed_episode
    published = dt.datetime.fromtimestamp(episodes[2]["published"], dt.timezone.utc)
    assert published == dt.datetime(2026, 11, 26, 22, 0, tzinfo=dt.timezone.utc)


def test_podcastparser_would_read_podcast_tags_under_the_old_uri(show):
    """Why the official URI is a choice: the same feed under the GitHub URI gives podcastparser the links."""
    _, _, data = show
    old = b"https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
    parsed = podcastparser.parse(FEED_URL, io.BytesIO(data.replace(PODCAST.encode(), old)))
    assert parsed["episodes"][0]["chapters_json_url"].endswith(".chapters.json")


def test_mp3_carries_its_guid_transcript_and_ordered_chapters(show):
    show_dir, built, _ = show
    for episode in list_episodes(show_dir, open_show(show_dir)):
        tag = ID3(episode.mp3)
        assert tag.version == (2, 3, 0)
        assert (
            str(tag["TGID"].text[0])
            == episode.guid
            == episode_guid(open_show(show_dir), episode.mp3.name)
        )
        lyrics = tag.getall("USLT")
        assert len(lyrics) == 1 and lyrics[0].lang == "chi"
        text = lyrics[0].text
        assert "2035 年" in text and "https://example.com/a?b=1&c=2" in text  # as written
        assert "二零三五" not in text
        starts = [f.start_time for f in tag.getall("CHAP")]
        physical = [
            int.from_bytes(_chap_starts(episode.mp3.read_bytes())[i], "big") for i in range(4)
        ]
        assert physical == sorted(starts)
        # The audio after the tag is the built episode's, byte for byte
        original = next(p for p in built if p.name == episode.mp3.name).read_bytes()
        assert episode.mp3.read_bytes().endswith(original[id3v2_end(original) :])


def _chap_starts(data: bytes) -> list[bytes]:
    starts = []
    pos = 10
    end = id3v2_end(data)
    while pos + 10 <= end and data[pos] != 0:
        length = int.from_bytes(data[pos + 4 : pos + 8], "big")
        if data[pos : pos + 4] == b"CHAP":
            body = data[pos + 10 : pos + 10 + length]
            id_end = body.index(b"\0") + 1
            starts.append(body[id_end : id_end + 4])
        pos += 10 + length
    return starts


def test_transcripts_are_the_articles_own_wording_timed_in_order(show):
    show_dir, _, _ = show
    episode = list_episodes(show_dir, open_show(show_dir))[-1]
    vtt = episode.side_file(".vtt").read_text(encoding="utf-8")
    srt = episode.side_file(".srt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n")
    assert "今天上午 8:30，市气象台发布通知：气温 25℃，降雨概率 60%。" in vtt
    assert "详情见 https://example.com/a?b=1&amp;c=2 。" in vtt  # one cue, the URL whole
    assert "地铁 3 号线 2035 年前后延伸到机场。" in srt
    assert "&lt;script&gt;" in vtt and "<script>" in srt  # VTT escapes, SRT is plain
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)", vtt)
    times = [
        (
            int(a) * 3600 + int(b) * 60 + int(c) + int(d) / 1000,
            int(e) * 3600 + int(f) * 60 + int(g) + int(h) / 1000,
        )
        for a, b, c, d, e, f, g, h in stamps
    ]
    assert all(start < end for start, end in times)
    assert all(times[k][1] <= times[k + 1][0] + 1e-6 for k in range(len(times) - 1))
    assert times[-1][1] <= episode.duration
    # a section's heading starts its chapter's first cue
    chapters = {c.title: c.start for c in episode.chapters}
    heading = next(t for t, text in zip(times, vtt.split("\n\n")[1:]) if text.endswith("交通"))
    assert abs(heading[0] - chapters["交通"]) < 0.2


def test_check_passes_on_the_published_show_and_notes_the_generated_cover(show):
    show_dir, _, _ = show
    findings = check_show(show_dir)
    assert [f.message for f in findings if f.problem] == []
    assert any("generated" in f.message for f in findings if not f.problem)
    result = CliRunner().invoke(app, ["feed", str(show_dir), "--check"])
    assert result.exit_code == 0, result.output
    with Image.open(show_dir / "cover.png") as cover:
        assert cover.size == (1400, 1400) and cover.mode == "RGB"


def _rewrite(show_dir: Path, old: str, new: str, count: int = 1) -> None:
    path = show_dir / "feed.xml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _problems(show_dir: Path) -> list[str]:
    return [f.message for f in check_show(show_dir) if f.problem]


def test_check_reports_a_missing_explicit(show_copy):
    _rewrite(
        show_copy, "<itunes:explicit>false</itunes:explicit>\n    <itunes:type>", "<itunes:type>"
    )
    assert _problems(show_copy) == ["channel: <itunes:explicit> is missing"]


def test_check_reports_an_enclosure_length_that_does_not_match(show_copy):
    text = (show_copy / "feed.xml").read_text(encoding="utf-8")
    length = re.search(r'length="(\d+)"', text).group(1)
    _rewrite(show_copy, f'length="{length}"', f'length="{int(length) + 1}"')
    [problem] = _problems(show_copy)
    assert re.fullmatch(
        rf"item 1 \(.*\): enclosure length {int(length) + 1} but .*\.mp3 has {length} bytes",
        problem,
    )


def test_check_reports_a_repeated_guid_and_a_missing_enclosure_file(show_copy):
    text = (show_copy / "feed.xml").read_text(encoding="utf-8")
    first, second = re.findall(r'<guid isPermaLink="false">([^<]+)</guid>', text)[:2]
    _rewrite(show_copy, second, first)
    mp3 = sorted((show_copy / "episodes").glob("*.mp3"))[0]
    mp3.unlink()
    problems = _problems(show_copy)
    assert any(
        re.fullmatch(rf"item 2 \(.*\): <guid> {first} repeats item 1's", p) for p in problems
    )
    assert any(f"episodes/{mp3.name} is not in the show folder" in p for p in problems)
    assert len(problems) == 2


def test_check_reports_a_bad_pubdate(show_copy):
    text = (show_copy / "feed.xml").read_text(encoding="utf-8")
    date = re.search(r"<pubDate>([^<]+)</pubDate>", text).group(1)
    _rewrite(show_copy, date, "2026-11-28 06:00")
    [problem] = _problems(show_copy)
    assert re.fullmatch(
        r"item 1 \(.*\): <pubDate> '2026-11-28 06:00' is not an RFC 2822 date", problem
    )


def test_check_reports_a_cover_too_small_and_not_rgb(show_copy):
    Image.new("RGBA", (600, 600), (10, 20, 30, 255)).save(show_copy / "cover.png")
    assert _problems(show_copy) == [
        "cover cover.png: colour mode RGBA, Apple wants RGB",
        "cover cover.png: 600x600 px, Apple wants 1400 to 3000",
    ]


def test_check_reports_invalid_xml_and_the_cli_exits_1(show_copy):
    _rewrite(show_copy, "</channel>", "")
    [problem] = _problems(show_copy)
    assert problem.startswith(f"{show_copy / 'feed.xml'}: not well-formed XML")
    result = CliRunner().invoke(app, ["feed", str(show_copy), "--check"])
    assert result.exit_code == 1
    assert "not well-formed XML" in result.output


def test_feed_command_rebuilds_the_same_feed_from_the_folder(show_copy, show):
    (show_copy / "feed.xml").unlink()
    (show_copy / "index.html").unlink()
    result = CliRunner().invoke(app, ["feed", str(show_copy)])
    assert result.exit_code == 0, result.output
    assert (show_copy / "feed.xml").read_bytes() == show[2]


def test_republishing_keeps_guid_and_date_and_keep_retires_the_oldest(show_copy, published_show):
    _, built = published_show
    before = {e.mp3.name: e for e in list_episodes(show_copy)}
    again = publish_episode(built[0], show_copy)
    assert again.guid == before[again.mp3.name].guid
    assert again.published == before[again.mp3.name].published
    result = CliRunner().invoke(app, ["feed", str(show_copy), "--keep", "2"])
    assert result.exit_code == 0, result.output
    left = sorted(p.name for p in (show_copy / "episodes").iterdir())
    assert not any(name.startswith("2026-11-27") for name in left)
    assert len(left) == 8
    parsed = podcastparser.parse(FEED_URL, io.BytesIO((show_copy / "feed.xml").read_bytes()))
    assert [e["title"] for e in parsed["episodes"]] == EXPECTED_ORDER[:2]


def test_publish_cli_refuses_a_folder_without_a_show_and_a_non_episode(tmp_path, published_show):
    _, built = published_show
    runner = CliRunner()
    result = runner.invoke(app, ["publish", str(built[0]), "--to", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "is not a show folder" in result.output
    bogus = tmp_path / "bogus.mp3"
    bogus.write_bytes(b"not audio at all")
    init = runner.invoke(app, ["init", str(tmp_path / "s")])
    assert init.exit_code == 0, init.output
    result = runner.invoke(app, ["publish", str(bogus), "--to", str(tmp_path / "s")])
    assert result.exit_code == 2 and "bogus.mp3" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_stamp_tag_is_idempotent_on_the_audio(show):
    show_dir, _, _ = show
    episode = list_episodes(show_dir)[0]
    data = episode.mp3.read_bytes()
    again = stamp_tag(data, episode.guid, episode.published)
    assert again == data
    assert read_episode(episode.mp3).chapters == episode.chapters


def test_write_feed_uses_the_shows_own_cover(show_copy, tmp_path):
    art = tmp_path / "art.jpg"
    Image.new("RGB", (1500, 1500), (200, 30, 30)).save(art, "JPEG")
    toml = (show_copy / "show.toml").read_text(encoding="utf-8")
    (show_copy / "show.toml").write_text(toml + f'cover = "{art}"\n', encoding="utf-8")
    write_feed(show_copy)
    assert (show_copy / "cover.jpg").read_bytes() == art.read_bytes()
    assert not (show_copy / "cover.png").exists()
    assert check_show(show_copy) == []
    assert (
        json.loads(
            (
                show_copy
                / "episodes"
                / next(p.name for p in (show_copy / "episodes").glob("*.chapters.json"))
            ).read_text()
        )["version"]
        == "1.2.0"
    )


def test_generated_cover_follows_the_shows_name_and_works_without_a_cjk_font(show_copy, tmp_path):
    from digest.cover import generate_cover, is_generated

    before = (show_copy / "cover.png").read_bytes()
    toml = (show_copy / "show.toml").read_text(encoding="utf-8")
    (show_copy / "show.toml").write_text(toml.replace("测试 &", "改名 &"), encoding="utf-8")
    write_feed(show_copy)
    assert (show_copy / "cover.png").read_bytes() != before
    assert is_generated(show_copy / "cover.png")
    plain = tmp_path / "plain.png"
    plain.write_bytes(generate_cover("名字", font=tmp_path / "no-such-font.ttf"))
    with Image.open(plain) as image:
        assert image.size == (1400, 1400) and image.mode == "RGB" and image.format == "PNG"
    assert is_generated(plain)
