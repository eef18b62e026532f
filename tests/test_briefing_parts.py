"""The briefing's parts: date, voices, budget, dedup, the show's record, intro bed, CLI edges."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.briefing import (
    BriefOptions,
    build_briefing,
    load_published,
    plan_briefing,
    spoken_date,
)
from digest.budget import estimate_chunk, fit_stories, rate_factor
from digest.cli import app
from digest.errors import InputError
from digest.mp3 import read_frames
from digest.normalization.conversion import is_traditional
from digest.pipeline import BuildOptions
from digest.show import Pauses, Show
from digest.sources import Story, deduplicate, parse_since, read_source_list
from digest_testing.audio import decode_mp3

SIMPLIFIED = "# 新能源汽车销量创新高\n\n本月新能源汽车销量同比增长三成。\n\n## 出口增长\n\n出口量也明显增加。\n"
TRADITIONAL = "# 颱風逼近臺灣\n\n氣象署發布海上警報，颱風預計明天登陸。\n\n## 交通影響\n\n鐵路與航班將受影響。\n"
OTHER = "# 社区图书馆夜间开放\n\n社区图书馆每晚开放到九点。\n"


@pytest.mark.parametrize(
    "date, spoken",
    [
        (dt.date(2026, 11, 30), ("二零二六年十一月三十日", "星期一")),
        (dt.date(2027, 1, 1), ("二零二七年一月一日", "星期五")),
        (dt.date(2026, 12, 20), ("二零二六年十二月二十日", "星期日")),
        (dt.date(2026, 10, 15), ("二零二六年十月十五日", "星期四")),
    ],
)
def test_spoken_date(date, spoken):
    assert spoken_date(date) == spoken


def test_a_6am_beijing_run_on_a_utc_server_says_today():
    utc_evening = dt.datetime(2026, 11, 29, 22, 0, tzinfo=dt.timezone.utc)
    assert Show().today(utc_evening) == dt.date(2026, 11, 30)


def test_voices_alternate_and_traditional_stories_get_the_traditional_voice():
    stories = [Story("a", SIMPLIFIED), Story("b", TRADITIONAL), Story("c", OTHER)]
    show = Show(voices=("xiaoxiao", "yunyang"))
    plan = plan_briefing(
        stories, show, BriefOptions(build=BuildOptions(date=dt.date(2026, 11, 30)))
    )
    assert [s.preset.name for s in plan.segments] == [
        "xiaoxiao",
        "xiaoxiao",
        "yunyang",
        "xiaoxiao",
        "xiaoxiao",
    ]
    assert "颱風" not in " ".join(
        plan.segments[2].script.chapters[0].chunks
    )  # zh-CN voice: Simplified
    taiwan = replace(show, traditional_voice="hsiaochen")
    plan = plan_briefing(
        stories, taiwan, BriefOptions(build=BuildOptions(date=dt.date(2026, 11, 30)))
    )
    story = plan.segments[2]
    assert story.preset.name == "hsiaochen"
    assert "颱風逼近臺灣" in " ".join(
        story.script.chapters[0].chunks
    )  # zh-TW voice keeps Traditional
    assert is_traditional(TRADITIONAL) and not is_traditional(SIMPLIFIED)


def test_headline_chapter_opens_with_the_transition_and_carries_the_url():
    stories = [Story("a", SIMPLIFIED, url="https://a.example/1", site="甲报"), Story("b", OTHER)]
    plan = plan_briefing(
        stories, Show(), BriefOptions(build=BuildOptions(date=dt.date(2026, 11, 30)))
    )
    first, second = plan.stories
    assert first.script.chapters[0].chunks[0] == "首先，来自甲报。"
    assert first.script.chapters[0].url == "https://a.example/1"
    assert [c.title for c in first.script.chapters] == ["新能源汽车销量创新高", "出口增长"]
    assert second.script.chapters[0].chunks[0] == "下一条。"
    assert second.script.chapters[0].url is None


def test_a_story_that_starts_with_a_section_still_gets_a_headline_chapter():
    story = Story("s", "# 两会前瞻\n\n## 经济目标\n\n增长目标预计在百分之五左右。\n")
    plan = plan_briefing(
        [story], Show(), BriefOptions(build=BuildOptions(date=dt.date(2026, 11, 30)))
    )
    headline, section = plan.stories[0].script.chapters
    assert headline.title == "两会前瞻" and headline.chunks == ("首先。", "两会前瞻。")
    assert section.title == "经济目标" and "两会前瞻" not in "".join(section.chunks)


def test_fit_drops_sections_from_the_longest_story_never_a_lead():
    fit = fit_stories([[10, 30, 30], [20, 5], [15]], fixed=10, limit=100)
    assert fit.keep == (2, 2, 1) and fit.fits and fit.total == 90
    fit = fit_stories([[10, 30, 30], [20, 5], [15]], fixed=10, limit=80)
    assert fit.keep == (1, 2, 1) and fit.fits and fit.total == 60
    fit = fit_stories([[50, 30], [40]], fixed=0, limit=60)
    assert fit.keep == (1, 1) and not fit.fits and fit.total == 90


def test_fit_in_the_plan_lists_what_was_dropped_and_warns_when_leads_do_not_fit():
    long_story = "# 长篇报道\n\n导语。\n\n" + "".join(
        f"## 第{n}部分\n\n" + "这是一段很长的内容。" * 40 + "\n\n" for n in range(1, 4)
    )
    options = BriefOptions(
        build=BuildOptions(date=dt.date(2026, 11, 30)), max_minutes=2.5, fit=True
    )
    plan = plan_briefing([Story("long", long_story), Story("b", OTHER)], Show(), options)
    assert plan.dropped == ("长篇报道 / 第2部分", "长篇报道 / 第3部分")
    assert 60 < plan.estimate <= 150 and not plan.over_budget
    warnings: list[str] = []
    tight = replace(options, max_minutes=0.2)
    plan = plan_briefing([Story("long", long_story)], Show(), tight, warn=warnings.append)
    assert plan.over_budget and len(plan.stories[0].script.chapters) == 1
    assert len(warnings) == 1 and "leads alone" in warnings[0]


def test_estimates_scale_with_rate():
    text = "今天的天气很好，适合出门散步。"
    assert estimate_chunk(text, "edge", "+50%") == pytest.approx(estimate_chunk(text, "edge") / 1.5)
    assert rate_factor("-20%") == pytest.approx(0.8)


def test_same_story_twice_is_included_once_and_published_stories_are_skipped():
    a = Story("a.txt", SIMPLIFIED)
    again = Story("copy.txt", SIMPLIFIED.replace("\n\n", "\n"))  # reformatted, same words
    web = Story("https://x.example/1?utm=1", OTHER, url="https://x.example/1")
    web_again = Story("https://x.example/1#top", OTHER + "更新。", url="https://x.example/1")
    notes: list[str] = []
    kept = deduplicate([a, again, web, web_again], note=notes.append)
    assert kept == [a, web] and len(notes) == 2
    kept = deduplicate([a, web], published=set(web.keys), note=notes.append)
    assert kept == [a] and "already published" in notes[-1]


def test_since_and_source_lists(tmp_path):
    assert parse_since("24h") == dt.timedelta(hours=24)
    assert parse_since("2d") == dt.timedelta(days=2)
    assert parse_since("90m") == dt.timedelta(minutes=90)
    with pytest.raises(InputError, match="since 'yesterday'"):
        parse_since("yesterday")
    listing = tmp_path / "sources.txt"
    listing.write_text(
        "# morning\nhttps://a.example/feed.xml\n\n  b.txt  # a file\n", encoding="utf-8"
    )
    assert read_source_list(listing) == ["https://a.example/feed.xml", str(tmp_path / "b.txt")]


def write_stories(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in (("a.md", SIMPLIFIED), ("b.md", OTHER)):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def run(*argv: str):
    return CliRunner().invoke(app, list(argv))


def test_publish_records_stories_and_tomorrow_skips_them(tmp_path):
    show_dir = tmp_path / "show"
    assert run("init", str(show_dir), "--name", "早间新闻").exit_code == 0
    again = run("init", str(show_dir))
    assert again.exit_code == 2 and "already exists" in again.stderr
    folder = tmp_path / "in"
    a, b = write_stories(folder)
    common = [
        "--engine",
        "offline",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--publish",
        str(show_dir),
    ]
    first = run("brief", str(a), "--date", "2026-11-30", *common)
    assert first.exit_code == 0, first.stderr
    episode = Path(first.stdout.strip())
    assert episode.parent == show_dir / "episodes" and episode.is_file()
    feed = (show_dir / "feed.xml").read_text(encoding="utf-8")  # published: the feed lists it
    assert episode.name in feed and not list(show_dir.glob(".brief-*"))
    assert len(load_published(show_dir)) == 1  # a text key: the story had no URL
    second = run("brief", str(a), str(b), "--date", "2026-12-01", *common, "--json")
    assert second.exit_code == 0, second.stderr
    summary = json.loads(second.stdout)
    assert [s["headline"] for s in summary["stories"]] == ["社区图书馆夜间开放"]
    assert "already published in this show" in second.stderr
    record = json.loads((show_dir / "stories.json").read_text(encoding="utf-8"))
    assert [s["title"] for s in record["stories"]] == ["新能源汽车销量创新高", "社区图书馆夜间开放"]
    third = run("brief", str(a), "--date", "2026-12-02", *common)
    assert third.exit_code == 2 and "nothing to brief" in third.stderr


def test_strict_makes_a_bad_source_fatal_with_its_own_exit_code(tmp_path):
    a, _ = write_stories(tmp_path / "in")
    argv = [
        "brief",
        str(a),
        str(tmp_path / "missing.txt"),
        "--engine",
        "offline",
        "-o",
        str(tmp_path / "out"),
    ]
    result = run(*argv, "--strict")
    assert result.exit_code == 2 and "missing.txt does not exist" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_an_intro_bed_changes_only_the_intro(tmp_path):
    from digest.ffmpeg import pydub_segment_class

    pydub_segment_class()  # points pydub at our ffmpeg before pydub.generators imports it
    from pydub.generators import Sine

    bed = tmp_path / "bed.wav"
    Sine(440).to_audio_segment(duration=30_000).export(str(bed), format="wav")
    stories = [Story("a", SIMPLIFIED), Story("b", OTHER)]
    show = Show(pauses=Pauses(story=2.5, section=1.5))
    base = BriefOptions(
        build=BuildOptions(
            engine="offline",
            date=dt.date(2026, 11, 30),
            output_dir=tmp_path / "plain",
            cache_dir=tmp_path / "c",
        )
    )
    plain = build_briefing(stories, show, base)
    mixed = build_briefing(
        stories,
        show,
        replace(base, intro_bed=bed, build=replace(base.build, output_dir=tmp_path / "bed")),
    )
    assert mixed.episode.chapters == plain.episode.chapters
    intro_end = plain.episode.chapters[0].end
    frames = round(intro_end * 24000 / 576)
    assert mixed.episode.audio.count == plain.episode.audio.count
    assert (
        mixed.episode.audio.to_frames().data[frames * 144 :]
        == plain.episode.audio.to_frames().data[frames * 144 :]
    )
    assert (
        mixed.episode.audio.to_frames().data[: frames * 144]
        != plain.episode.audio.to_frames().data[: frames * 144]
    )
    read_frames(mixed.files.mp3.read_bytes())  # one clean frame stream in the episode format
    # the story pause after the intro's last words now carries the bed; the plain one is silent
    pause = slice(int((intro_end - 2.0) * 1000), int((intro_end - 0.5) * 1000))
    assert decode_mp3(plain.files.mp3.read_bytes())[pause].rms < 5
    assert decode_mp3(mixed.files.mp3.read_bytes())[pause].rms > 50


def test_readme_quickstart_briefing_works_offline(tmp_path):
    examples = Path(__file__).parent.parent / "examples"
    result = run(
        "brief",
        str(examples),
        "--engine",
        "offline",
        "-o",
        str(tmp_path),
        "--cache-dir",
        str(tmp_path / "c"),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(summary["stories"]) == len(list(examples.glob("*.*"))) >= 2
    assert (
        summary["chapters"][0]["title"] == "开场" and summary["chapters"][-1]["title"] == "结束语"
    )


def test_a_feed_url_gives_its_recent_items_as_pages():
    from digest.sources import collect_stories
    from digest_testing.web import PageServer, Route

    page = (Path(__file__).parent / "pages" / "with-comments.html").read_bytes()
    with PageServer({"/story.html": Route(page)}) as server:
        feed = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>科技日报网</title>"
            f'<entry><title>a</title><link href="{server.url("/story.html")}"/></entry>'
            f'<entry><title>b</title><link href="{server.url("/gone.html")}"/>'
            "<updated>2099-01-01T00:00:00Z</updated></entry></feed>"
        ).encode()
        server.routes["/atom.xml"] = Route(feed, content_type="application/atom+xml")
        warnings: list[str] = []
        stories = collect_stories([server.url("/atom.xml")], warn=warnings.append)
    assert [s.url for s in stories] == [server.url("/story.html")]  # undated items are kept
    assert stories[0].site == "科技日报网"
    assert len(warnings) == 1 and server.url("/gone.html") in warnings[0]
