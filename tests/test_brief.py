"""The daily briefing, end to end with the offline engine and a local web server."""

from __future__ import annotations

import datetime as dt
import json
from email.utils import format_datetime
from pathlib import Path

import pytest
from mutagen.id3 import ID3, CTOCFlags
from typer.testing import CliRunner

from digest.cli import app
from digest_testing.audio import decode_mp3
from digest_testing.web import PageServer, Route

PAGES = Path(__file__).parent / "pages"

STORY_FILES = {
    "01-bikes.txt": "城市骑行热潮持续升温\n\n"
    "今年以来，本市共享单车日均骑行量超过一百万人次。\n\n"
    "一、通勤成为主力\n\n早高峰骑行占全天三成。\n\n"
    "二、车道建设提速\n\n全年新建自行车道四十公里。\n",
    "02-library.md": "# 社区图书馆延长开放时间\n\n"
    "从下月起，全市社区图书馆每晚开放到九点。\n\n"
    "## 新增自习座位\n\n每个馆新增自习座位二十个。\n",
    "03-weather.txt": "周末天气：晴转多云\n\n周六晴，周日转多云，气温八到十五度。\n",
}
# story -> section chapters after its headline chapter
EXPECTED = [
    ("城市骑行热潮持续升温", ["通勤成为主力", "车道建设提速"]),
    ("社区图书馆延长开放时间", ["新增自习座位"]),
    ("周末天气：晴转多云", []),
    ("台北捷運環狀線北環段動工 預計二〇三二年通車", ["工程分三階段進行", "沿線居民關注噪音問題"]),
    ("我市地铁三号线二期工程今日开通运营", ["首班车六点发车", "票价沿用现行标准"]),
    ("全国首个城市级自动驾驶公交网络在雄安投入运营", ["票价与普通公交一致"]),
]


def rss(items: list[tuple[str, str, dt.datetime]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<pubDate>{format_datetime(when)}</pubDate></item>"
        for title, link, when in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>科技日报网</title><link>http://example.com/</link><description>d</description>{entries}"
        "</channel></rss>"
    ).encode()


@pytest.fixture(scope="module")
def server():
    routes = {
        f"/{name}": Route((PAGES / name).read_bytes())
        for name in (
            "taiwan-traditional.html",
            "mainland-portal.html",
            "with-comments.html",
            "live-blog.html",
        )
    }
    routes["/moved"] = Route(status=302, headers={"Location": "/mainland-portal.html"})
    with PageServer(routes) as running:
        yield running


@pytest.fixture(scope="module")
def briefing(server, tmp_path_factory):
    root = tmp_path_factory.mktemp("brief")
    stories = root / "stories"
    stories.mkdir()
    for name, text in STORY_FILES.items():
        (stories / name).write_text(text, encoding="utf-8")
    now = dt.datetime.now(dt.timezone.utc)
    feed = root / "news.rss"
    feed.write_bytes(
        rss(
            [
                ("新", server.url("/with-comments.html"), now - dt.timedelta(hours=2)),
                ("旧", server.url("/live-blog.html"), now - dt.timedelta(days=3)),
            ]
        )
    )
    failing = server.url("/missing")
    argv = [
        "brief",
        str(stories / "01-bikes.txt"),
        str(stories / "02-library.md"),
        str(stories / "03-weather.txt"),
        server.url("/taiwan-traditional.html"),
        server.url("/moved"),
        failing,
        str(feed),
        "--since",
        "24h",
        "--engine",
        "offline",
        "--date",
        "2026-11-30",
        "-o",
        str(root / "out"),
        "--cache-dir",
        str(root / "cache"),
        "--json",
    ]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, (result.output, result.stderr)
    return result, failing, server


def test_one_flat_ordered_toc_intro_headlines_sections_outro(briefing):
    result, _, server = briefing
    summary = json.loads(result.stdout)
    mp3 = Path(summary["output"])
    tag = ID3(mp3)
    toc = tag.getall("CTOC")
    assert len(toc) == 1
    assert toc[0].flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    chaps = {c.element_id: c for c in tag.getall("CHAP")}
    ordered = [chaps[i] for i in toc[0].child_element_ids]
    assert set(toc[0].child_element_ids) == set(chaps)
    starts = [c.start_time for c in ordered]
    assert starts == sorted(starts) and starts[0] == 0
    titles = [c.sub_frames["TIT2"].text[0] for c in ordered]
    expected = ["开场"]
    for headline, sections in EXPECTED:
        expected += [headline, *sections]
    expected.append("结束语")
    assert titles == expected
    # the headline chapters of web stories link to their source; no other chapter does
    links = {
        c.sub_frames["TIT2"].text[0]: c.sub_frames.getall("WXXX")[0].url
        for c in ordered
        if c.sub_frames.getall("WXXX")
    }
    assert links == {
        EXPECTED[3][0]: "https://news.example.tw/article/20261130-mrt",
        EXPECTED[4][0]: "https://news.example.cn/2026/11/30/metro-line-3.html",
        EXPECTED[5][0]: server.url("/with-comments.html"),
    }
    # chapters are contiguous and end with the audio
    for before, after in zip(ordered, ordered[1:]):
        assert before.end_time == after.start_time
    audio = decode_mp3(mp3.read_bytes())
    assert abs(len(audio) - ordered[-1].end_time) < 60


def test_json_chapters_match_the_id3_chapters(briefing):
    result, _, _ = briefing
    summary = json.loads(result.stdout)
    document = json.loads(Path(summary["files"]["chapters"]).read_text(encoding="utf-8"))
    tag = ID3(summary["output"])
    chaps = sorted(tag.getall("CHAP"), key=lambda c: c.start_time)
    assert [c["title"] for c in document["chapters"]] == [
        c.sub_frames["TIT2"].text[0] for c in chaps
    ]
    for entry, chap in zip(document["chapters"], chaps):
        assert abs(entry["startTime"] * 1000 - chap.start_time) <= 1
        wxxx = chap.sub_frames.getall("WXXX")
        assert entry.get("url") == (wxxx[0].url if wxxx else None)
    assert [s["headline"] for s in summary["stories"]] == [h for h, _ in EXPECTED]


def test_the_failing_url_is_named_in_one_warning_and_the_old_item_is_left_out(briefing):
    result, failing, server = briefing
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len([w for w in warnings if failing in w]) == 1
    assert all(failing not in w for w in warnings if "HTTP 404" not in w)
    assert "/live-blog.html" not in server.requests  # older than --since: never fetched


def test_intro_speaks_the_date_count_and_headlines(briefing):
    result, _, _ = briefing
    summary = json.loads(result.stdout)
    srt = Path(summary["files"]["subtitles"]).read_text(encoding="utf-8")
    intro = srt.split("首先")[0]
    assert "今天是二零二六年十一月三十日，星期一" in intro
    assert "本期共有6条新闻" in intro  # transcripts keep the written form; the voice says 六
    assert "下一条，来自自由快報" in srt  # the Traditional page's source names itself


def test_the_briefing_is_leveled_to_the_show_loudness(briefing):
    from digest.inspection import inspect_episode

    result, _, _ = briefing
    summary = json.loads(result.stdout)
    report = inspect_episode(Path(summary["output"]))
    assert report.loudness.integrated == pytest.approx(-19.0, abs=1.0)
    assert report.loudness.true_peak <= -1.0
    assert summary["loudness"]["integrated_lufs"] == pytest.approx(
        report.loudness.integrated, abs=0.3
    )
    assert report.stream.info["frames"] == report.stream.frames
