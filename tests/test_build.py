"""End to end: the seed article through the real edge-tts client and the fake server."""

import datetime as dt
import json
import re
import shutil
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

import opencc
import pytest
from mutagen.id3 import ID3
from typer.testing import CliRunner

from digest.article import parse_article
from digest.cli import app
from digest.errors import SynthesisError
from digest.mp3 import id3v2_body_size
from digest.pipeline import BuildOptions, build_episode, prepare_script
from digest.script import balance_chunks
from digest.synthesis import RetryPolicy
from digest_testing.audio import decode_errors, decode_mp3
from digest_testing.fake_edge import read_tags

DATA = Path(__file__).parent / "data"
SEED = DATA / "meta-talent-war.txt"
DATE = dt.date(2026, 11, 29)
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, timeout=10)


def options(tmp_path, **overrides):
    settings = dict(
        engine="edge",
        output_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        date=DATE,
        retry=FAST_RETRY,
        idle_timeout=2.0,
    )
    settings.update(overrides)
    return BuildOptions(**settings)


def chap_frames_in_file_order(path: Path) -> list[tuple[str, int]]:
    """(element id, start ms) of every CHAP frame, in the order they stand in the file."""
    data = path.read_bytes()
    assert data[:3] == b"ID3"
    size = id3v2_body_size(data)
    pos, found = 10, []
    while pos < 10 + size and data[pos] != 0:
        length = int.from_bytes(data[pos + 4 : pos + 8], "big")
        if data[pos : pos + 4] == b"CHAP":
            body = data[pos + 10 : pos + 10 + length]
            element_id, rest = body.split(b"\0", 1)
            found.append((element_id.decode(), int.from_bytes(rest[:4], "big")))
        pos += 10 + length
    return found


@pytest.fixture(scope="module")
def seed_build(tmp_path_factory):
    """One build of the seed article, shared by the assertions below."""
    from digest_testing.fake_edge import FakeEdgeServer, point_edge_tts_at

    tmp_path = tmp_path_factory.mktemp("seed")
    with FakeEdgeServer() as server, point_edge_tts_at(server):
        result = build_episode(SEED, options(tmp_path))
        requests = server.requests
    return result, requests


def test_seed_episode_decodes_cleanly_with_exact_contiguous_chapters(seed_build):
    result, _ = seed_build
    mp3 = result.files.mp3
    assert decode_errors(str(mp3)) == ""
    decoded_seconds = len(decode_mp3(mp3.read_bytes())) / 1000
    assert decoded_seconds == pytest.approx(result.episode.duration, abs=0.05)

    tag = ID3(mp3)
    assert tag.version == (2, 3, 0)
    chapters = sorted(tag.getall("CHAP"), key=lambda c: c.start_time)
    article = parse_article(SEED.read_text(encoding="utf-8"))
    assert [c.sub_frames["TIT2"].text[0] for c in chapters] == [s.title for s in article.sections]
    assert len(chapters) == 7
    assert chapters[0].start_time == 0
    for before, after in zip(chapters, chapters[1:]):
        assert before.end_time == after.start_time
    assert chapters[-1].end_time / 1000 == pytest.approx(decoded_seconds, abs=0.05)
    assert all(c.start_offset == c.end_offset == 0xFFFFFFFF for c in chapters)

    toc = tag.getall("CTOC")
    assert len(toc) == 1 and toc[0].flags == 3
    assert toc[0].child_element_ids == [c.element_id for c in chapters]
    # FFmpeg-based players list chapters in file order, so time order must be file order.
    in_file = chap_frames_in_file_order(mp3)
    assert [start for _, start in in_file] == sorted(start for _, start in in_file)


def test_seed_episode_tags(seed_build):
    result, _ = seed_build
    tag = ID3(result.files.mp3)
    raw = result.files.mp3.read_bytes()[:4096]
    assert b"TYER" in raw and b"TDAT" in raw and b"TDRC" not in raw  # real v2.3 date frames
    assert tag["TIT2"].text[0] == "Meta開天價“Offer”搶人,CEO親自下場,扎克伯格慌了嗎?"
    assert tag["TCON"].text[0] == "Podcast"
    assert tag["TLAN"].text[0] == "chi"
    assert int(tag["TLEN"].text[0]) == round(result.episode.duration * 1000)
    assert tag["TPE1"].text[0] == tag["TALB"].text[0]
    assert tag.getall("COMM")[0].text[0].startswith("Meta 一擲千金")
    assert tag.getall("TXXX:digest:engine")[0].text[0] == "edge"


def test_seed_requests_are_small_and_simplified(seed_build):
    _, requests = seed_build
    to_simplified = opencc.OpenCC("t2s")
    assert len(requests) >= 8
    for request in requests:
        assert len(escape(request.text).encode("utf-8")) <= 4096
        assert to_simplified.convert(request.text) == request.text
        assert request.voice == "zh-CN-XiaoxiaoNeural"
    assert not any(re.search(r"\d", r.text) for r in requests)


def test_seed_episode_clips_are_in_script_order(seed_build, tmp_path):
    result, requests = seed_build
    from digest_testing.fake_edge import fake_audio

    texts = {read_tags(fake_audio(r.text))[0]: r.text for r in requests}
    spoken = [texts[tag] for tag in read_tags(result.files.mp3.read_bytes()) if tag in texts]
    settings = options(tmp_path)
    # The chunks an edge build speaks: the script's, evened over its request slots.
    script = balance_chunks(prepare_script(SEED, settings).script, settings.concurrency)
    # every clip, each once, in the order of the script's chunks
    assert spoken == [chunk for chapter in script.chapters for chunk in chapter.chunks]
    assert spoken[0].startswith("Meta开天价")
    assert len(spoken) == len(requests)


def test_side_files_name_and_summary(seed_build):
    result, _ = seed_build
    name = result.files.mp3.name
    assert re.fullmatch(r"2026-11-29-[a-z0-9-]+\.mp3", name)
    chapters = json.loads(result.files.chapters.read_text(encoding="utf-8"))
    assert chapters["version"] == "1.2.0"
    assert [c["startTime"] for c in chapters["chapters"]] == [
        round(c.start, 3) for c in result.episode.chapters
    ]
    srt = result.files.subtitles.read_text(encoding="utf-8")
    cues = re.findall(r"(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)", srt)
    assert len(cues) > 50
    ends = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for *_, h, m, s, ms in cues]
    assert max(ends) <= result.episode.duration
    first_start = (
        int(cues[0][0]) * 3600 + int(cues[0][1]) * 60 + int(cues[0][2]) + int(cues[0][3]) / 1000
    )
    assert first_start >= 0.5  # the lead-in silence comes before the first word
    # The subtitles are the article's own wording and script (Traditional), not the spoken rewrite.
    assert "開天價" in srt and "开天价" not in srt


def test_same_input_and_date_give_the_same_bytes_and_warm_cache_makes_no_requests(
    fake_edge, tmp_path
):
    first = build_episode(SEED, options(tmp_path))
    requests_first = len(fake_edge.requests)
    shutil.move(first.files.mp3, tmp_path / "first.mp3")
    second = build_episode(SEED, options(tmp_path))
    assert len(fake_edge.requests) == requests_first  # everything came from the cache
    assert second.stats.cached == requests_first and second.stats.requests == 0
    assert second.files.mp3.read_bytes() == (tmp_path / "first.mp3").read_bytes()
    uncached = build_episode(SEED, options(tmp_path, use_cache=False, output_dir=tmp_path / "u"))
    assert uncached.files.mp3.read_bytes() == second.files.mp3.read_bytes()


def test_a_changed_section_only_resynthesizes_its_chunks(fake_edge, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(
        "标题\n\n一、第一节\n\n第一节的内容。\n\n二、第二节\n\n第二节的内容。\n", encoding="utf-8"
    )
    build_episode(article, options(tmp_path))
    before = len(fake_edge.requests)
    article.write_text(
        "标题\n\n一、第一节\n\n第一节的内容。\n\n二、第二节\n\n第二节改过了。\n", encoding="utf-8"
    )
    build_episode(article, options(tmp_path))
    assert [r.text for r in fake_edge.requests[before:]] == ["第二节。第二节改过了。"]


def test_a_chunk_that_keeps_failing_names_its_section_and_writes_nothing(fake_edge, tmp_path):
    fake_edge.fail_next("503", times=None)
    with pytest.raises(SynthesisError) as info:
        build_episode(DATA / "typhoon-traditional.txt", options(tmp_path))
    message = str(info.value)
    assert "section" in message and "“" in message and "503" in message
    assert "\n" not in message
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_build_json_summary(fake_edge, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "build",
            str(DATA / "chip-report-markdown.md"),
            "-o",
            str(out),
            "--engine",
            "edge",
            "--cache-dir",
            str(tmp_path / "c"),
            "--date",
            "2026-01-02",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["engine"] == "edge" and summary["voice"] == "zh-CN-XiaoxiaoNeural"
    assert [c["title"] for c in summary["chapters"]][1:] == [
        "制程进展",
        "设备与材料",
        "需求结构",
        "结论",
    ]
    assert summary["chapters"][0]["start"] == 0
    assert summary["chapters"][-1]["end"] == pytest.approx(summary["duration"], abs=0.001)
    assert Path(summary["output"]).name.startswith("2026-01-02-")
    assert Path(summary["output"]).exists()


def test_cli_build_with_cli_failure_exit_code_1(fake_edge, tmp_path):
    fake_edge.fail_next("no_audio", times=None)
    result = CliRunner().invoke(
        app,
        [
            "build",
            str(DATA / "typhoon-traditional.txt"),
            "-o",
            str(tmp_path / "o"),
            "--engine",
            "edge",
            "--no-cache",
            "--quiet",
            "--retries",
            "2",
        ],
    )
    assert result.exit_code == 1
    assert re.match(
        r"digest: error: section \d \(.+\), chunk starting “.+” failed after 2 attempts",
        result.stderr,
    )
    assert result.stderr.count("\n") == 1
    assert list((tmp_path / "o").iterdir()) == []


def test_taiwan_voice_keeps_traditional_script(fake_edge, tmp_path):
    build_episode(DATA / "typhoon-traditional.txt", options(tmp_path, voice="hsiaochen"))
    texts = " ".join(r.text for r in fake_edge.requests)
    assert "颱風" in texts and "台风" not in texts
    assert {r.voice for r in fake_edge.requests} == {"zh-TW-HsiaoChenNeural"}


def test_cli_script_and_voices():
    runner = CliRunner()
    result = runner.invoke(app, ["script", str(DATA / "ev-market-simplified.txt"), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [c["title"] for c in document["chapters"]][1:] == [
        "整体市场",
        "出口表现",
        "价格走势",
        "后市展望",
    ]
    assert document["locale"] == "zh-CN"
    voices = runner.invoke(app, ["voices", "--locale", "zh-TW"])
    assert "zh-TW-HsiaoChenNeural" in voices.stdout and "zh-CN-YunxiNeural" not in voices.stdout


def tiny_png() -> bytes:
    """A valid 1x1 grey PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\x80"))
        + chunk(b"IEND", b"")
    )


def test_cover_is_embedded_and_progress_counts_every_chunk(fake_edge, tmp_path):
    cover = tmp_path / "cover.png"
    cover.write_bytes(tiny_png())
    ticks = []
    result = build_episode(
        DATA / "chip-report-markdown.md",
        options(tmp_path, cover=cover),
        progress=lambda done, total: ticks.append((done, total)),
    )
    pictures = ID3(result.files.mp3).getall("APIC")
    assert len(pictures) == 1 and pictures[0].type == 3 and pictures[0].mime == "image/png"
    assert pictures[0].data == cover.read_bytes()
    total = len(fake_edge.requests)
    assert ticks == [(n, total) for n in range(1, total + 1)]
    assert decode_errors(str(result.files.mp3)) == ""


def test_a_cover_that_is_not_an_image_is_refused_before_synthesis(fake_edge, tmp_path):
    cover = tmp_path / "cover.jpg"
    cover.write_text("not an image")
    result = CliRunner().invoke(
        app,
        ["build", str(SEED), "--engine", "edge", "--cover", str(cover), "-o", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert result.stderr == f"digest: error: cover {cover}: not a JPEG or PNG image\n"
    assert fake_edge.requests == []


def test_stdin_article(fake_edge, tmp_path):
    text = (DATA / "ev-market-simplified.txt").read_text(encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "build",
            "-",
            "--engine",
            "edge",
            "-o",
            str(tmp_path / "o"),
            "--cache-dir",
            str(tmp_path / "c"),
            "--date",
            "2026-11-29",
            "--json",
        ],
        input=text,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert len(summary["chapters"]) == 5
    assert summary["chapters"][0]["title"] == "新能源汽车11月销量创新高 渗透率首次突破55%"
