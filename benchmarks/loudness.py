"""Benchmark: loudness of the four sample articles, both engines, before and after.

    python benchmarks/loudness.py [--samples DIR] [--engines offline,edge]

Each article is built four times: "raw" is the level the voice itself
delivers (for the offline engine: its PCM leveling switched off, which is what
digest made before issue 13); "as spoken" is `loudness=None` (no episode
adjustment; the offline engine's own leveling on); then the default lossless
adjustment to -19 LUFS, and the `reencode` mode.  Every file is then
measured by ffmpeg's own `ebur128` filter (integrated loudness, true peak,
loudness range), independently of digest's block meter, which is also shown.

The edge engine runs against the fake edge-tts server (digest_testing): its
audio is synthetic (a steady 330 Hz tone per character, silence for
punctuation), so its figures say that the adjustment works, not how
Microsoft's voices measure.

Target (issue 13): integrated loudness within ±1 LU of -19 LUFS, true peak at
or below -1 dBTP.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from digest.pipeline import BuildOptions, build_episode
from digest.synthesis import RetryPolicy
from digest_testing.audio import ebur128

SAMPLES = Path("/work/shared/samples")
ARTICLES = (
    "meta-talent-war.txt",
    "ev-market-simplified.txt",
    "typhoon-traditional.txt",
    "chip-report-markdown.md",
)
MODES = (
    ("raw", None, "lossless"),
    ("as spoken", None, "lossless"),
    ("lossless", -19.0, "lossless"),
    ("reencode", -19.0, "reencode"),
)


@contextlib.contextmanager
def engine_context(engine: str):
    if engine != "edge":
        yield
        return
    from digest_testing.fake_edge import FakeEdgeServer, point_edge_tts_at

    with FakeEdgeServer() as server, point_edge_tts_at(server):
        yield


@contextlib.contextmanager
def unleveled_offline_voice(active: bool):
    """The offline engine without its PCM leveling: the level espeak-ng delivers."""
    if not active:
        yield
        return
    import digest.leveling as leveling
    from digest.encoding import encode_pcm

    original = leveling.encode_leveled
    leveling.encode_leveled = lambda pcm, rate, target=None: (encode_pcm(pcm, rate), None)
    try:
        yield
    finally:
        leveling.encode_leveled = original


def target_set(label: str) -> bool:
    return label in ("lossless", "reencode")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    parser.add_argument("--engines", default="offline,edge")
    args = parser.parse_args()
    rows = []
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for engine in args.engines.split(","):
            with engine_context(engine):
                for article in ARTICLES:
                    for label, target, mode in MODES:
                        raw = label == "raw"
                        if raw and engine != "offline":
                            continue  # only the offline voice levels its own speech
                        cache = Path(scratch) / engine / ("raw-cache" if raw else "cache")
                        out = Path(scratch) / engine / article / label
                        options = BuildOptions(
                            engine=engine,
                            voice="offline" if engine == "offline" else None,
                            output_dir=out,
                            cache_dir=cache,
                            date=dt.date(2026, 11, 30),
                            retry=RetryPolicy(attempts=3, base_delay=0.05),
                            loudness=target,
                            loudness_mode=mode,
                        )
                        started = time.perf_counter()
                        with unleveled_offline_voice(raw):
                            result = build_episode(args.samples / article, options)
                        seconds = time.perf_counter() - started
                        measured = ebur128(result.files.mp3)
                        ours = result.episode.loudness.after
                        ok = target is None or (
                            abs(measured["I"] - target) <= 1.0 and measured["TP"] <= -1.0
                        )
                        failures += not ok
                        rows.append(
                            (
                                engine,
                                article,
                                label,
                                *measured.values(),
                                ours.integrated,
                                seconds,
                                ok,
                            )
                        )
    print(
        "| engine | article | level | I (LUFS) | true peak (dBTP) | LRA (LU) "
        "| digest's meter I | build s | on target |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for engine, article, label, i, tp, lra, ours, seconds, ok in rows:
        verdict = "yes" if ok and target_set(label) else ("" if ok else "NO")
        print(
            f"| {engine} | {article} | {label} | {i:.1f} | {tp:.1f} | {lra:.1f} "
            f"| {ours:.1f} | {seconds:.1f} | {verdict} |"
        )
    print(f"\n{failures} adjusted episode(s) off target", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
