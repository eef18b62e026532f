"""`digest inspect`: the listening report, on our episodes and on other tools' files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli import app
from digest.ffmpeg import ffmpeg_exe
from digest.pipeline import BuildOptions, build_episode
from digest.synthesis import RetryPolicy

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    from digest_testing.fake_edge import FakeEdgeServer, point_edge_tts_at

    tmp_path = tmp_path_factory.mktemp("inspect")
    with FakeEdgeServer() as server, point_edge_tts_at(server):
        return build_episode(
            DATA / "ev-market-simplified.txt",
            BuildOptions(
                engine="edge",
                output_dir=tmp_path / "out",
                cache_dir=tmp_path / "cache",
                date=dt.date(2026, 11, 30),
                retry=RetryPolicy(attempts=3, base_delay=0.01),
            ),
        )


def test_inspect_json_reports_what_the_build_made(episode):
    result = CliRunner().invoke(app, ["inspect", str(episode.files.mp3), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["duration"] == pytest.approx(episode.episode.duration, abs=1e-3)
    assert report["frames"] == report["info_frame_frames"] == episode.episode.audio.count
    assert report["format"] == "MPEG-2 Layer III, 24 kHz mono, 48 kbps CBR"
    assert [c["title"] for c in report["chapters"]] == [c.title for c in episode.episode.chapters]
    assert [c["start"] for c in report["chapters"]] == pytest.approx(
        [c.start for c in episode.episode.chapters], abs=1e-3
    )
    loudness = report["loudness"]
    assert loudness["integrated_lufs"] == pytest.approx(-19.0, abs=1.0)
    assert loudness["true_peak_dbtp"] <= -1.0
    assert report["tags"]["digest:integrated_loudness"] == f"{loudness['integrated_lufs']:.1f} LUFS"
    assert report["tags"]["genre"] == "Podcast" and report["tags"]["id3_version"] == "2.3"
    files = episode.files
    assert set(report["transcript"]) >= {files.subtitles.name, files.captions.name}
    assert files.chapters.name not in report["transcript"]  # chapters are not a transcript
    assert report["problems"] == [] and report["audio_warnings"] == []


def test_inspect_text_lists_chapters_and_says_no_problems(episode):
    result = CliRunner().invoke(app, ["inspect", str(episode.files.mp3)])
    assert result.exit_code == 0, result.output
    assert "info frame: yes" in result.output and "problems:   none" in result.output
    for chapter in episode.episode.chapters:
        assert chapter.title in result.output


def test_inspect_reads_another_tools_file_and_names_its_problems(tmp_path):
    # ffmpeg's own MP3: stereo 44.1 kHz, ID3v2.4, a LAME Info frame, no chapters, quiet tone.
    path = tmp_path / "other.mp3"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=5",
         "-af", "volume=-30dB", "-ac", "2", "-ar", "44100", "-b:a", "128k",
         "-metadata", "title=Other", str(path)],
        check=True,
    )  # fmt: skip
    result = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"].startswith("MPEG-1 Layer III, 44.1 kHz stereo")
    assert report["tags"]["title"] == "Other"
    assert report["duration"] == pytest.approx(5.0, abs=0.1)
    assert "no chapters" in report["problems"]
    assert any(p.startswith("loudness") for p in report["problems"])


def test_inspect_refuses_what_is_not_an_mp3_in_one_line(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("just text", encoding="utf-8")
    for target in (path, tmp_path / "missing.mp3"):
        result = CliRunner().invoke(app, ["inspect", str(target)])
        assert result.exit_code == 2
        assert result.output.count("\n") == 1 and str(target) in result.output
