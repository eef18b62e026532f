"""Issue 14, pacing: builds speak a short script evened over the request slots
(`pipeline.spread_over_requests`) when the engine's service paces each request
(edge), and the script as chunked otherwise.  The real edge-tts client against the
fake service; the offline engine for the unbalanced side."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from digest.article import parse_article
from digest.clips import RetryPolicy
from digest.pipeline import BuildOptions, build_episode, prepare_script
from digest.script import balance_chunks
from digest_testing.audio import decode_errors, decode_mp3

DATA = Path(__file__).parent / "data"
SEED = DATA / "meta-talent-war.txt"  # 12 chunks: 15 on 5 request slots, 12 (re-cut) on 6
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, timeout=10)


def options(tmp_path: Path, **more) -> BuildOptions:
    settings = dict(
        engine="edge",
        output_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        date=dt.date(2026, 11, 29),
        retry=FAST_RETRY,
    )
    return BuildOptions(**dict(settings, **more))


def chapter_titles(mp3: Path) -> list[str]:
    chapters = sorted(ID3(mp3).getall("CHAP"), key=lambda c: c.start_time)
    return [c.sub_frames["TIT2"].text[0] for c in chapters]


def test_an_edge_build_speaks_the_balanced_chunks_and_a_rerun_hits_every_clip(fake_edge, tmp_path):
    script = prepare_script(SEED, options(tmp_path)).script
    balanced = balance_chunks(script, 5)
    assert (script.chunk_count, balanced.chunk_count) == (12, 15)

    first = build_episode(SEED, options(tmp_path, concurrency=5))
    spoken = [r.text for r in fake_edge.requests]
    assert first.stats.requests == len(spoken) == 15
    assert sorted(spoken) == sorted(c for chapter in balanced.chapters for c in chapter.chunks)
    mp3 = first.files.mp3
    assert decode_errors(str(mp3)) == ""
    assert len(decode_mp3(mp3.read_bytes())) / 1000 == pytest.approx(
        first.episode.duration, abs=0.05
    )
    sections = [s.title for s in parse_article(SEED.read_text(encoding="utf-8")).sections]
    assert chapter_titles(mp3) == sections  # a chunk more or less, a chapter per section

    again = build_episode(SEED, options(tmp_path, concurrency=5, output_dir=tmp_path / "again"))
    assert (again.stats.requests, again.stats.cached) == (0, 15)
    assert again.files.mp3.read_bytes() == mp3.read_bytes()

    # Six slots: 12 chunks cut for 6; the ones spoken for 5 slots come from the cache.
    six = build_episode(SEED, options(tmp_path, concurrency=6, output_dir=tmp_path / "six"))
    cut_for_six = balance_chunks(script, 6)
    reused = set(spoken) & {c for chapter in cut_for_six.chapters for c in chapter.chunks}
    assert six.stats.cached == len(reused) > 0
    assert six.stats.requests == cut_for_six.chunk_count - len(reused) > 0
    assert sorted(r.text for r in fake_edge.requests[15:]) == sorted(
        c for chapter in cut_for_six.chapters for c in chapter.chunks if c not in reused
    )
    assert chapter_titles(six.files.mp3) == sections


def test_the_offline_engine_speaks_the_script_as_chunked(tmp_path):
    result = build_episode(SEED, options(tmp_path, engine="offline", concurrency=5))
    assert result.engine == "offline"
    assert result.stats.requests == 12  # balancing follows a paced service's slots


def test_a_briefing_run_is_balanced_and_keeps_its_chapters(fake_edge, tmp_path):
    from digest.briefing import BriefOptions, build_briefing
    from digest.show import Show
    from digest.sources import Story

    stories = [Story("seed", SEED.read_text(encoding="utf-8"))]
    show = Show(voices=("xiaoxiao",))  # one voice: one synthesis run

    def brief(concurrency: int, folder: str):
        build = options(
            tmp_path, output_dir=tmp_path / folder, concurrency=concurrency, use_cache=False
        )
        return build_briefing(stories, show, BriefOptions(build=build))

    one = brief(1, "one")
    eight = brief(8, "eight")
    assert eight.stats.requests > one.stats.requests
    assert [c.title for c in eight.episode.chapters] == [c.title for c in one.episode.chapters]
    assert chapter_titles(eight.files.mp3) == [c.title for c in one.episode.chapters]
    # The same words, cut in other places: the cues (one per sentence) keep their text.
    assert [c.text for c in eight.episode.cues] == [c.text for c in one.episode.cues]
    assert decode_errors(str(eight.files.mp3)) == ""
