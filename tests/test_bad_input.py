"""Bad input is refused cleanly: one line naming the problem, exit code 2, no
traceback, nothing in the output folder -- and hostile titles never become
hostile file names.

Everything goes through the CLI.  The fake edge-tts server is running in every
test, so an input that wrongly got through would be synthesized (and caught by
the assertions) rather than reach Microsoft.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mutagen.id3
import pytest
from typer.testing import CliRunner

from digest.cli import app
from digest.errors import DigestError
from digest.reading import read_text

DATA = Path(__file__).parent / "data"
GOOD = DATA / "typhoon-traditional.txt"
LIMIT = 2_000_000  # the documented default of --max-chars


def digest(*args: str, root: Path, output: Path | None = None):
    out = output if output is not None else root / "out"
    argv = ["build", *args, "--engine", "edge", "--date", "2025-01-02", "-o", str(out)]
    if "--cache-dir" not in args:
        argv += ["--cache-dir", str(root / "cache")]
    return CliRunner().invoke(app, argv)


def assert_refused(result, out: Path, *fragments: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit)  # not an escaped exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("digest: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not out.exists() or (out.is_dir() and list(out.iterdir()) == []) or out.is_file()
    return lines[0]


# --------------------------------------------------------------------------- the article file


def make_article(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.txt"
    if kind == "missing":
        pass
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "whitespace":
        path.write_text(" \n\t\n\u3000\n  ", encoding="utf-8")
    elif kind == "punctuation":
        path.write_text("。。。！？……——，、\n「」《》\n", encoding="utf-8")
    elif kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    elif kind == "undecodable":
        path.write_bytes(b"\x81\xff\xfe\x80\x9f" * 200)
    elif kind == "too-large":
        path.write_text("新闻。" * (LIMIT // 3 + 5), encoding="utf-8")  # 2,000,013 characters
    else:  # pragma: no cover
        raise ValueError(kind)
    return path


ARTICLE_CASES = {
    "missing": "does not exist",
    "directory": "is a directory",
    "empty": "is empty",
    "whitespace": "only whitespace",
    "punctuation": "no words",
    "binary": "binary file",
    "undecodable": "not in an encoding digest can read",
    "too-large": f"the limit is {LIMIT:,}",
}


@pytest.mark.parametrize("kind", list(ARTICLE_CASES))
def test_bad_article_file(fake_edge, tmp_path, kind):
    article = make_article(tmp_path, kind)
    result = digest(str(article), root=tmp_path)
    assert_refused(result, tmp_path / "out", str(article), ARTICLE_CASES[kind])
    assert fake_edge.count() == 0


def test_the_size_limit_is_max_chars_and_can_be_raised(fake_edge, tmp_path):
    big = make_article(tmp_path, "too-large")
    text = read_text(big, max_chars=3_000_000)  # raising the limit lets the same file through
    assert len(text) == 3 * (LIMIT // 3 + 5) > LIMIT
    with pytest.raises(DigestError, match="the limit is 2,000,000") as refusal:
        read_text(big)
    assert refusal.value.setting == "max_chars"  # the CLI turns it into a --max-chars hint
    # through the CLI: a low --max-chars refuses a normal article, a high one accepts it
    size = len(GOOD.read_text(encoding="utf-8"))
    refused = digest(str(GOOD), "--max-chars", str(size // 2), root=tmp_path)
    assert_refused(refused, tmp_path / "out", str(GOOD), "--max-chars")
    accepted = digest(str(GOOD), "--max-chars", str(size + 10), root=tmp_path)
    assert accepted.exit_code == 0, accepted.output
    assert Path(accepted.stdout.strip()).is_file()


# --------------------------------------------------------------------------- voice and prosody


@pytest.mark.parametrize(
    "option, value, fragment",
    [
        ("--voice", "nosuch", "unknown voice 'nosuch'"),
        ("--voice", "zh-CN-NoSuchNeural", "unknown voice 'zh-CN-NoSuchNeural'"),
        ("--voice", "xiaoxiao2", "unknown voice 'xiaoxiao2'"),  # a misspelt preset
        ("--rate", "fast", "bad rate 'fast'"),
        ("--rate", "-100%", "bad rate '-100%'"),
        ("--rate", "10", "bad rate '10'"),
        ("--pitch", "5", "bad pitch '5'"),
        ("--pitch", "+5Hzz", "bad pitch '+5Hzz'"),
        ("--volume", "loud", "bad volume 'loud'"),
        ("--volume", "+1000%", "bad volume '+1000%'"),
    ],
)
def test_bad_voice_or_prosody(fake_edge, tmp_path, option, value, fragment):
    result = digest(str(GOOD), option, value, root=tmp_path)
    assert_refused(result, tmp_path / "out", fragment)
    assert fake_edge.count() == 0


# --------------------------------------------------------------------------- folders


def test_output_folder_is_a_file(fake_edge, tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    result = digest(str(GOOD), root=tmp_path)
    assert_refused(result, blocker, str(blocker), "is not a folder")
    assert blocker.read_text() == "not a folder"
    assert fake_edge.count() == 0


def test_unwritable_output_folder(fake_edge, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    if os.geteuid() == 0:
        # root ignores permission bits; the immutable attribute stops even root
        if (
            shutil.which("chattr") is None
            or subprocess.run(["chattr", "+i", str(out)]).returncode != 0
        ):
            pytest.skip("running as root without chattr +i: no way to make a folder unwritable")
        undo = ["chattr", "-i", str(out)]
    else:
        out.chmod(0o555)
        undo = None
    try:
        result = digest(str(GOOD), root=tmp_path)
    finally:
        if undo:
            subprocess.run(undo, check=True)
        else:
            out.chmod(0o755)
    assert_refused(result, out, str(out), "not writable")
    assert fake_edge.count() == 0  # refused before any synthesis


def test_cache_folder_is_a_file(fake_edge, tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    result = digest(str(GOOD), "--cache-dir", str(blocker), root=tmp_path)
    assert_refused(result, tmp_path / "out", str(blocker), "is not a folder")
    assert fake_edge.count() == 0


def test_a_directory_where_the_episode_goes_fails_cleanly_after_synthesis(fake_edge, tmp_path):
    """Write errors at the very end (disk full, a name taken by a folder) are one line
    too, and leave no half episode (sidecar files without the MP3)."""
    out = tmp_path / "out"
    (out / "2025-01-02-tai-feng-hai-yan-bi-jin-qi-xiang-shu-fa-bu-hai-shang-lu.mp3").mkdir(
        parents=True
    )
    result = digest(str(GOOD), root=tmp_path)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("digest: error: could not write ")
        and ".mp3" in lines[0]
    )
    assert (
        sorted(p.name for p in out.iterdir())
        == [
            "2025-01-02-tai-feng-hai-yan-bi-jin-qi-xiang-shu-fa-bu-hai-shang-lu.mp3"  # only the obstacle
        ]
    )


# --------------------------------------------------------------------------- hostile titles

SAFE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-[a-z0-9-]+\.mp3$")


@pytest.mark.parametrize(
    "title, expected",
    [
        ("../../etc/passwd", "../../etc/passwd"),
        ("/", "/"),
        ("..", ".."),
        ("a\x00b", "a b"),
        ("晨报\x07\x1b[31m红色\x1b[0m", "晨报 [31m红色 [0m"),
        ("换行\n标题\r\t", "换行 标题"),
        ("长" * 300, "长" * 300),
        ("C:\\Windows\\System32\\con", "C:\\Windows\\System32\\con"),
    ],
)
def test_hostile_title_gives_a_safe_file_name(fake_edge, tmp_path, title, expected):
    """A title is free text: it is kept (minus control characters) in the tags, but
    the file name is always a short ASCII slug inside the output folder."""
    out = tmp_path / "out"
    result = digest(str(GOOD), "--title", title, root=tmp_path)
    assert result.exit_code == 0, result.output
    mp3 = Path(result.stdout.strip())
    assert mp3.parent == out
    assert SAFE_NAME.match(mp3.name) and len(mp3.name) < 100, mp3.name
    names = sorted(p.name for p in out.iterdir())
    stem = mp3.name[: -len(".mp3")]
    assert names == sorted([f"{stem}.mp3", f"{stem}.chapters.json", f"{stem}.srt", f"{stem}.vtt"])
    assert not list(tmp_path.glob("etc*")) and not (tmp_path / "passwd").exists()
    # the title survives in the metadata, as one value without control characters
    tag = mutagen.id3.ID3(mp3)
    assert tag["TIT2"].text == [expected]
    chapters = json.loads((out / f"{stem}.chapters.json").read_text(encoding="utf-8"))
    assert chapters["title"] == expected


# --------------------------------------------------------------------------- a real process


@pytest.mark.parametrize("kind", ["missing", "binary", "bad-rate", "cache-file"])
def test_real_process_prints_one_line_and_no_traceback(tmp_path, kind):
    out = tmp_path / "out"
    args = [str(GOOD)]
    if kind in ("missing", "binary"):
        args = [str(make_article(tmp_path, kind))]
    elif kind == "bad-rate":
        args += ["--rate", "quick"]
    else:
        (tmp_path / "cache").write_text("x")
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "digest",
            "build",
            *args,
            "--engine",
            "edge",
            "-o",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WSS_PROXY": "http://127.0.0.1:9"},  # never reach the real service
    )
    assert process.returncode == 2
    assert len(process.stderr.splitlines()) == 1 and process.stderr.startswith("digest: error: ")
    assert "Traceback" not in process.stderr and process.stdout == ""
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("value", ["2026-13-40", "tomorrow", "29/11/2026"])
def test_bad_date_is_one_line(fake_edge, tmp_path, value):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["build", str(GOOD), "--engine", "edge", "--date", value, "-o", str(out)]
    )
    assert_refused(result, out, f"--date '{value}'", "YYYY-MM-DD")
    assert fake_edge.count() == 0


# --------------------------------------------------------------------------- limits (issue 9.4, 9.5)


def test_more_sections_than_an_episode_can_have_chapters_is_refused_before_synthesis(
    fake_edge, tmp_path
):
    article = tmp_path / "long.md"
    sections = "\n\n".join(f"## 第{n}条\n\n第{n}条新闻的内容。" for n in range(1, 257))
    article.write_text(f"# 长文\n\n{sections}\n", encoding="utf-8")
    result = digest(str(article), root=tmp_path)
    assert_refused(result, tmp_path / "out", str(article), "256 sections", "at most 255 chapters")
    assert fake_edge.count() == 0


def test_255_chapters_fit_in_the_tag():
    from digest.episode import Chapter, Episode
    from digest.frame_stream import FrameStream
    from digest.mp3 import silence
    from digest.tags import EpisodeInfo, build_tag, check_chapter_count

    check_chapter_count(255, "x")
    chapters = tuple(Chapter(f"第{n}章", n * 0.1, (n + 1) * 0.1) for n in range(255))
    episode = Episode("t", FrameStream((silence(25.6),)), chapters, ())
    tag = build_tag(episode, EpisodeInfo(title="t", show="s", date=dt.date(2026, 3, 1)))
    read = mutagen.id3.ID3(io.BytesIO(tag + silence(25.6).data))
    assert len(read.getall("CHAP")) == 255
    assert len(read.getall("CTOC")[0].child_element_ids) == 255


RUN_CLI = "import sys\nfrom digest.cli import app\napp(sys.argv[1:], prog_name='digest')"


def run_cli(*argv: str, stdin=subprocess.DEVNULL, timeout: float = 60):
    """The CLI in a subprocess: a read without a bound fails the test by its timeout."""
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, *argv],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line(done, *fragments: str) -> None:
    assert done.returncode == 2, done
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("digest: error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_article_file_is_refused(tmp_path):
    done = run_cli("build", "/dev/zero", "--engine", "offline", "-o", str(tmp_path / "out"))
    assert_one_line(done, "/dev/zero", "larger than the limit of 2,000,000 characters")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_endless_stdin_is_refused(tmp_path):
    with open("/dev/zero", "rb") as zero:
        done = run_cli("build", "-", "--engine", "offline", "-o", str(tmp_path / "out"), stdin=zero)
    assert_one_line(done, "stdin is more than")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_cover_is_refused(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("标题\n\n正文。\n", encoding="utf-8")
    done = run_cli(
        "build",
        str(article),
        "--engine",
        "offline",
        "--cover",
        "/dev/zero",
        "-o",
        str(tmp_path / "out"),
    )
    assert_one_line(done, "cover /dev/zero", "larger than")
    assert not (tmp_path / "out").exists()


def test_a_300_mb_cover_is_refused_before_synthesis(fake_edge, tmp_path):
    cover = tmp_path / "huge.jpg"
    with open(cover, "wb") as handle:  # sparse: 300 MB on paper, a few bytes on disk
        handle.write(b"\xff\xd8\xff\xe0")
        handle.truncate(300 * 1024 * 1024)
    result = digest(str(GOOD), "--cover", str(cover), root=tmp_path)
    assert_refused(result, tmp_path / "out", str(cover), "larger than")
    assert fake_edge.count() == 0
