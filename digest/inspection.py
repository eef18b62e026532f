"""`digest inspect EPISODE.mp3`: what a producer checks before publishing.

Duration, format, loudness, chapters (the CTOC tree), tags, transcript, and any
problem the checks find.  Only ID3v2 and MPEG audio are assumed, so episodes
made by other tools can be inspected too.  The audio is measured by streaming
the file through ffmpeg; it is never decoded into memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from digest.checks import Problem, clock, find_problems
from digest.errors import InputError
from digest.loudness import (
    DEFAULT_TARGET,
    TOLERANCE,
    TRUE_PEAK_CEILING,
    Loudness,
    LoudnessError,
    analyze,
    measure,
)
from digest.mp3 import StreamSummary, summarize_stream

_TEXT_TAGS = {
    "TIT2": "title",
    "TPE1": "artist",
    "TALB": "album",
    "TCON": "genre",
    "TLAN": "language",
    "TDRC": "date",
    "TYER": "year",
    "TLEN": "length_ms",
    "TSSE": "encoder",
}


@dataclass(frozen=True)
class ChapterEntry:
    element_id: str
    title: str
    start: float
    end: float
    depth: int = 0  # nesting in the CTOC tree


@dataclass
class Report:
    """Everything `digest inspect` shows; `to_dict` is the --json form."""

    path: Path
    size: int
    duration: float
    format: str
    stream: StreamSummary
    loudness: Loudness | None
    chapters: list[ChapterEntry]
    tags: dict[str, str]
    transcript: list[str]
    problems: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict:
        info = self.stream.info or {}
        return {
            "file": str(self.path),
            "size_bytes": self.size,
            "duration": round(self.duration, 3),
            "format": self.format,
            "frames": self.stream.frames,
            "info_frame": bool(self.stream.info),
            "info_frame_frames": info.get("frames"),
            "loudness": self.loudness.to_dict() if self.loudness else None,
            "chapters": [
                {
                    "id": c.element_id,
                    "title": c.title,
                    "start": round(c.start, 3),
                    "end": round(c.end, 3),
                    "depth": c.depth,
                }
                for c in self.chapters
            ],
            "tags": self.tags,
            "transcript": self.transcript,
            "problems": self.problems,
            "audio_warnings": [w.to_dict() for w in self.warnings],
        }

    def to_text(self) -> str:
        lines = [
            f"file:       {self.path} ({self.size:,} bytes)",
            f"duration:   {clock(self.duration)} ({self.duration:.3f} s, {self.stream.frames} frames)",
            f"format:     {self.format}",
            "info frame: "
            + (
                f"yes ({self.stream.info.get('frames')} frames, seek table)"
                if self.stream.info
                else "no (players estimate the duration)"
            ),
        ]
        if self.loudness:
            figures = self.loudness
            lines.append(
                f"loudness:   {_fmt(figures.integrated, 'LUFS')} integrated, "
                f"true peak {_fmt(figures.true_peak, 'dBTP')}, range {figures.lra:.1f} LU"
            )
        lines.append(f"chapters:   {len(self.chapters)}")
        for chapter in self.chapters:
            indent = "  " * (chapter.depth + 1)
            lines.append(f"  {indent}{clock(chapter.start):>9}  {chapter.title}")
        lines.append("tags:")
        for key, value in self.tags.items():
            shown = value if len(value) <= 70 else value[:69] + "…"
            lines.append(f"  {key}: {shown}")
        lines.append("transcript: " + (", ".join(self.transcript) if self.transcript else "none"))
        found = self.problems + [w.describe() for w in self.warnings]
        lines.append("problems:   " + ("none" if not found else str(len(found))))
        lines.extend(f"  - {p}" for p in found)
        return "\n".join(lines)


def _fmt(value: float, unit: str) -> str:
    return f"{value:.1f} {unit}" if math.isfinite(value) else f"-inf {unit}"


def _format_name(stream: StreamSummary) -> str:
    if not stream.formats:
        return "no MPEG audio"
    fmt = stream.formats[0]
    version = {3: "MPEG-1", 2: "MPEG-2", 0: "MPEG-2.5"}[fmt.version]
    channels = "mono" if fmt.channels == 1 else "stereo"
    if stream.constant_bitrate:
        rate = f"{fmt.bitrate_kbps} kbps CBR"
    else:
        rates = sorted({f.bitrate_kbps for f in stream.formats})
        rate = f"VBR {rates[0]}-{rates[-1]} kbps"
    return f"{version} Layer III, {fmt.sample_rate / 1000:g} kHz {channels}, {rate}"


def _read_tags(path: Path):
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        return ID3(path)
    except ID3NoHeaderError:
        return None
    except Exception as exc:  # mutagen raises many kinds on broken tags
        raise InputError(f"{path}: unreadable ID3 tag ({exc})") from None


def _chapters(tag) -> list[ChapterEntry]:
    """Chapters in CTOC order (depth-first from the top-level CTOC), else by start time."""
    if tag is None:
        return []
    chaps = {f.element_id: f for f in tag.getall("CHAP")}
    tocs = {f.element_id: f for f in tag.getall("CTOC")}

    def entry(frame, depth: int) -> ChapterEntry:
        titles = [str(s) for s in frame.sub_frames.getall("TIT2")]
        return ChapterEntry(
            frame.element_id,
            titles[0] if titles else frame.element_id,
            frame.start_time / 1000,
            frame.end_time / 1000,
            depth,
        )

    root = next((t for t in tocs.values() if t.flags & 1), None)  # CTOCFlags.TOP_LEVEL
    if root is None:
        return sorted((entry(c, 0) for c in chaps.values()), key=lambda c: c.start)
    out: list[ChapterEntry] = []
    seen: set[str] = set()

    def walk(toc, depth: int) -> None:
        for child in toc.child_element_ids:
            if child in seen:
                continue
            seen.add(child)
            if child in chaps:
                out.append(entry(chaps[child], depth))
            elif child in tocs:
                walk(tocs[child], depth + 1)

    walk(root, 0)
    return out


def _tag_values(tag) -> dict[str, str]:
    if tag is None:
        return {}
    values: dict[str, str] = {"id3_version": f"2.{tag.version[1]}"}
    for frame_id, name in _TEXT_TAGS.items():
        frames = tag.getall(frame_id)
        if frames:
            values[name] = " / ".join(str(t) for t in frames[0].text)
    for frame in tag.getall("COMM"):
        values.setdefault("comment", str(frame.text[0]) if frame.text else "")
    for frame in tag.getall("TXXX"):
        values[frame.desc] = " / ".join(str(t) for t in frame.text)
    if tag.getall("APIC"):
        picture = tag.getall("APIC")[0]
        values["cover"] = f"{picture.mime}, {len(picture.data):,} bytes"
    return values


def _transcripts(path: Path, tag) -> list[str]:
    found = []
    if tag is not None and tag.getall("USLT"):
        found.append("USLT frame")
    if tag is not None and tag.getall("SYLT"):
        found.append("SYLT frame")
    for suffix in (".vtt", ".srt", ".txt"):
        sidecar = path.with_name(path.stem + suffix)
        if sidecar.is_file():
            found.append(sidecar.name)
    return found


def inspect_episode(path: Path, *, measure_audio: bool = True) -> Report:
    """Read an episode file and check it (loudness needs ffmpeg; streams the file)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    stream = summarize_stream(data)
    if not stream.frames:
        raise InputError(f"{path}: no MPEG audio frames (not an MP3 file)")
    tag = _read_tags(path)
    duration = stream.seconds
    report = Report(
        path=path,
        size=len(data),
        duration=duration,
        format=_format_name(stream),
        stream=stream,
        loudness=None,
        chapters=_chapters(tag),
        tags=_tag_values(tag),
        transcript=_transcripts(path, tag),
    )
    del data
    problems = report.problems
    if len(stream.formats) > 1 and len({(f.sample_rate, f.channels) for f in stream.formats}) > 1:
        problems.append("sample rate or channels change mid-stream")
    if stream.skipped_bytes:
        problems.append(f"{stream.skipped_bytes:,} bytes of non-audio between frames")
    if stream.info is None:
        problems.append("no Xing/Info frame: players estimate the duration and seek by guessing")
    elif stream.info.get("frames") not in (None, stream.frames):
        problems.append(
            f"the Xing/Info frame counts {stream.info['frames']} frames, the file has {stream.frames}"
        )
    if "length_ms" in report.tags:
        try:
            tlen = int(report.tags["length_ms"]) / 1000
        except ValueError:
            problems.append(f"TLEN is not a number: {report.tags['length_ms']!r}")
        else:
            if abs(tlen - duration) > 0.05:
                problems.append(f"TLEN says {tlen:.3f} s, the audio lasts {duration:.3f} s")
    _check_chapters(report.chapters, duration, problems)
    if measure_audio:
        try:
            blocks = analyze(path, str(path))
        except LoudnessError as exc:
            problems.append(str(exc))
        else:
            report.loudness = measure(blocks)
            report.warnings = find_problems(blocks)
            stereo = any(f.channels == 2 for f in stream.formats)
            _check_loudness(report.loudness, DEFAULT_TARGET + (3.0 if stereo else 0.0), problems)
    return report


def _check_chapters(chapters: list[ChapterEntry], duration: float, problems: list[str]) -> None:
    if not chapters:
        problems.append("no chapters")
        return
    for chapter in chapters:
        if chapter.end > duration + 0.05:
            problems.append(
                f"chapter {chapter.title!r} ends at {chapter.end:.3f} s, after the audio ({duration:.3f} s)"
            )
        if chapter.end < chapter.start:
            problems.append(f"chapter {chapter.title!r} ends before it starts")
    starts = [c.start for c in chapters if c.depth == 0]
    if starts != sorted(starts):
        problems.append("chapters in the table of contents are not in time order")


def _check_loudness(figures: Loudness, target: float, problems: list[str]) -> None:
    """Podcast level: -19 LUFS for a mono file, -16 for stereo (the same as heard)."""
    if not math.isfinite(figures.integrated):
        problems.append("the audio is silent")
        return
    if abs(figures.integrated - target) > TOLERANCE:
        problems.append(
            f"loudness {figures.integrated:.1f} LUFS: podcast apps expect {target:g} LUFS "
            f"(±{TOLERANCE:g}) for this channel count"
        )
    if figures.true_peak > TRUE_PEAK_CEILING:
        problems.append(
            f"true peak {figures.true_peak:+.1f} dBTP, above {TRUE_PEAK_CEILING:g} dBTP"
        )
