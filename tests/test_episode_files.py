"""An episode's files: all or nothing, never another article's, readable by others (issue 9.1-9.3).

Episodes here are built from encoded silence (no engine needed) and written
with `digest.outputs.write_episode`; the failures are real ones: a file-size
limit (RLIMIT_FSIZE, what `ulimit -f` sets) and real signals, in a subprocess.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from typer.testing import CliRunner

from digest.cli import app
from digest.episode import Chapter, Cue, Episode
from digest.frame_stream import FrameStream
from digest.mp3 import silence
from digest.outputs import source_id, write_episode
from digest.tags import EpisodeInfo

DATE = dt.date(2026, 3, 1)
SUFFIXES = (".mp3", ".chapters.json", ".srt", ".vtt")


def episode(seconds: float = 2.0, words: str = "你好。") -> Episode:
    audio = FrameStream((silence(seconds),))
    return Episode(
        "标题",
        audio,
        (Chapter("第一章", 0.0, audio.duration),),
        (Cue(0.1, 0.5, words),),
    )


def info(title: str = "标题", origin: str = "file:/a.txt", **more) -> EpisodeInfo:
    return EpisodeInfo(title=title, show="show", date=DATE, source_id=source_id(origin), **more)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every entry of the folder, hidden ones included, with its bytes."""
    return {p.name: (p.read_bytes() if p.is_file() else b"<dir>") for p in folder.iterdir()}


# --------------------------------------------------------------------------- 9.1 all or nothing


def test_a_rebuild_that_fails_on_a_full_disk_leaves_the_earlier_episode_as_it_was(tmp_path):
    """`ulimit -f 40`: the MP3 cannot be written; the earlier MP3, chapters and SRT stay."""
    out = tmp_path / "out"
    out.mkdir()
    files = write_episode(episode(2.0, "第一版。"), info(), out)
    before = snapshot(out)
    assert sorted(before) == sorted(files.mp3.name.replace(".mp3", s) for s in SUFFIXES)
    script = textwrap.dedent(
        """
        import resource, sys, datetime as dt
        from pathlib import Path
        sys.path[:0] = [sys.argv[2]]
        from test_episode_files import episode, info
        from digest.errors import OutputError
        from digest.outputs import write_episode
        resource.setrlimit(resource.RLIMIT_FSIZE, (40 * 512, 40 * 512))
        try:
            write_episode(episode(20.0, "第二版，更长。"), info(), Path(sys.argv[1]))
        except OutputError as exc:
            print(exc)
            sys.exit(3)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(out), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done
    assert done.stdout.startswith("could not write ") and "File too large" in done.stdout
    assert snapshot(out) == before  # the same files, byte for byte, and nothing else


def test_the_cli_rebuild_under_ulimit_keeps_the_earlier_episode(tmp_path):
    """The issue's reproduction, through the command line and the offline engine."""
    article = tmp_path / "a.txt"
    article.write_text("早间简报\n\n今天天气很好。明天有雨。\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["build", str(article), "--engine", "offline", "--no-cache", "--date", "2026-03-01"]
    argv += ["-o", str(out), "--quiet"]
    first = CliRunner().invoke(app, argv)
    assert first.exit_code == 0, first.output
    before = snapshot(out)
    article.write_text("早间简报\n\n今天天气很好。明天有雨，后天转晴。\n", encoding="utf-8")
    limit = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, (20480, 20480))"
    runner = (
        f"{limit}\nimport sys\nfrom digest.cli import app\napp(sys.argv[1:], prog_name='digest')"
    )
    done = subprocess.run(
        [sys.executable, "-c", runner, *argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done
    assert done.stderr.splitlines()[-1].startswith("digest: error: could not write ")
    assert "Traceback" not in done.stderr
    assert snapshot(out) == before


WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    sys.path[:0] = [sys.argv[4]]
    from test_episode_files import episode, info
    import digest.files
    from digest.interrupts import terminate_as_interrupt
    from digest.outputs import write_episode

    sig, when = getattr(signal, sys.argv[2]), sys.argv[3]
    folder = Path(sys.argv[1])
    real_write, real_replace = digest.files.write_atomically, os.replace
    calls = []

    def write(path, data):
        real_write(path, data)
        calls.append(path)
        if when == "staging" and len(calls) == 2:
            os.kill(os.getpid(), sig)  # two of three files staged

    def replace(src, dst):
        real_replace(src, dst)
        if when == "moving" and Path(dst).parent == folder:
            os.kill(os.getpid(), sig)  # the first file moved into place

    digest.files.write_atomically = write
    os.replace = replace
    try:
        with terminate_as_interrupt():
            write_episode(episode(3.0, "新的一版。"), info(), folder)
    except KeyboardInterrupt as exc:
        print(type(exc).__name__)
        sys.exit(130)
    print("finished")
    """
)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("when", ["staging", "moving"])
def test_a_signal_while_writing_leaves_a_whole_episode_and_no_temporary_files(tmp_path, sig, when):
    out = tmp_path / "out"
    out.mkdir()
    old = write_episode(episode(1.0, "旧的一版。"), info(), out)
    before = snapshot(out)
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(out), sig, when, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 130, done
    after = snapshot(out)
    assert not [name for name in after if name.startswith(".")]  # no hidden staging leftovers
    if when == "staging":
        assert after == before  # stopped before anything moved: the old episode, untouched
    else:
        # the moves finish once started (the signal waits for them): the new episode, whole
        assert sorted(after) == sorted(before)
        assert all(after[name] != before[name] for name in after)
        assert b"\xe6\x96\xb0" in after[old.subtitles.name]  # 新


def test_stale_staging_folders_from_a_killed_run_are_swept(tmp_path):
    out = tmp_path / "out"
    stale = out / ".digest-0123456789ab.tmp"
    stale.mkdir(parents=True)
    (stale / "x.mp3").write_bytes(b"partial")
    old_file = out / ".x.mp3.abc.tmp"
    old_file.write_bytes(b"partial")
    fresh = out / ".digest-ba9876543210.tmp"
    fresh.mkdir()
    not_ours = out / ".notes.tmp"
    not_ours.write_text("another program's file")
    hour_ago = time.time() - 7200
    for path in (stale / "x.mp3", stale, old_file, not_ours):
        os.utime(path, (hour_ago, hour_ago))
    write_episode(episode(), info(), out)
    assert not stale.exists() and not old_file.exists()
    assert fresh.exists()  # may belong to a build running right now
    assert not_ours.exists()


# --------------------------------------------------------------------------- 9.2 names


def stems(folder: Path) -> set[str]:
    return {p.name[: -len(".mp3")] for p in folder.glob("*.mp3")}


def assert_episode_pairs_match(folder: Path) -> None:
    """Every MP3 sits beside chapters and subtitles of the same episode."""
    for mp3 in folder.glob("*.mp3"):
        stem = mp3.name[: -len(".mp3")]
        chapters = json.loads((folder / f"{stem}.chapters.json").read_text(encoding="utf-8"))
        assert chapters["title"] == ID3(mp3)["TIT2"].text[0]
        srt = (folder / f"{stem}.srt").read_text(encoding="utf-8")
        assert ID3(mp3)["COMM::chi"].text[0] in srt


@pytest.mark.parametrize(
    "first, second",
    [
        ("每日新闻", "每日新闻"),  # same title and date
        ("公式", "攻势"),  # homophones: both gong-shi
        ("很长的标题" * 8 + "甲", "很长的标题" * 8 + "乙"),  # differ past the slug limit
    ],
)
def test_different_articles_never_share_a_name(tmp_path, first, second):
    a = write_episode(episode(1.0, "甲文。"), info(first, "file:/a.txt"), tmp_path)
    b = write_episode(episode(1.0, "乙文。"), info(second, "file:/b.txt"), tmp_path)
    assert b.mp3.name == f"{a.mp3.name[:-4]}-{source_id('file:/b.txt')[:8]}.mp3"
    assert len(list(tmp_path.iterdir())) == 2 * len(SUFFIXES)
    assert (tmp_path / a.subtitles.name).read_text(encoding="utf-8").count("甲文") == 1
    assert (tmp_path / b.subtitles.name).read_text(encoding="utf-8").count("乙文") == 1
    # a rebuild of each article replaces its own files, under its own name
    again = write_episode(episode(1.5, "乙文改。"), info(second, "file:/b.txt"), tmp_path)
    assert again.mp3 == b.mp3 and len(list(tmp_path.iterdir())) == 2 * len(SUFFIXES)
    assert "乙文改" in b.subtitles.read_text(encoding="utf-8")


def test_concurrent_builds_of_same_titled_articles_never_mix_their_files(tmp_path):
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def build(n: int) -> None:
        try:
            barrier.wait()
            for round_ in range(3):
                description = f"article {n} round {round_}"
                write_episode(
                    Episode(
                        "同名",
                        FrameStream((silence(0.5 + n / 10),)),
                        (Chapter("一", 0.0, 0.5 + n / 10),),
                        (Cue(0.1, 0.2, description),),
                    ),
                    info("同名", f"file:/{n}.txt", description=description),
                    tmp_path,
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(stems(tmp_path)) == 6
    assert_episode_pairs_match(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- 9.3 permissions


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_files_honour_the_umask(tmp_path, umask, mode):
    from digest.cache import ClipCache
    from digest.engines.base import Boundary, Speech

    (tmp_path / "out").mkdir()
    previous = os.umask(umask)
    try:
        files = write_episode(episode(), info(), tmp_path / "out")
        cache = ClipCache(tmp_path / "cache")
        cache.put("ab" * 32, Speech(silence(0.5).data, (Boundary(0.0, 0.4, "你好。"),)))
    finally:
        os.umask(previous)
    written = [*files.all, *(tmp_path / "cache").rglob("*.*")]
    assert len(written) == len(SUFFIXES) + 2
    assert {oct(p.stat().st_mode & 0o777) for p in written} == {oct(mode)}


# --------------------------------------------------------------------------- through the CLI


def test_cli_two_articles_with_one_title_give_two_readable_episodes(fake_edge, tmp_path):
    """9.2 and 9.3 end to end: same title and date, different articles; umask 022."""
    out = tmp_path / "out"
    built = []
    previous = os.umask(0o022)
    try:
        for name, body in (("a.txt", "第一篇的正文。"), ("b.txt", "第二篇的正文。")):
            article = tmp_path / name
            article.write_text(f"每日新闻\n\n{body}\n", encoding="utf-8")
            argv = ["build", str(article), "--engine", "edge", "--date", "2026-03-01"]
            argv += ["-o", str(out), "--cache-dir", str(tmp_path / "cache"), "--quiet"]
            result = CliRunner().invoke(app, argv)
            assert result.exit_code == 0, result.output
            built.append(Path(result.stdout.strip()))
    finally:
        os.umask(previous)
    assert built[0] != built[1]
    assert len(list(out.iterdir())) == 2 * len(SUFFIXES)
    assert_episode_pairs_match(out)
    assert "第一篇" in built[0].with_suffix(".srt").read_text(encoding="utf-8")
    assert "第二篇" in built[1].with_suffix(".srt").read_text(encoding="utf-8")
    assert {oct(p.stat().st_mode & 0o777) for p in out.iterdir()} == {"0o644"}
