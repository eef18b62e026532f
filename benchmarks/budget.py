"""Length budget: how well digest.budget predicts the offline engine's durations.

    .venv/bin/python benchmarks/budget.py [--fit]

Every chunk of the bundled sample articles (/work/shared/samples when present,
plus examples/) is spoken by the offline engine (espeak-ng) and its real
duration compared with `digest.budget.estimate_chunk`.  Chunks alternate
between a calibration half and a held-out half: `--fit` prints the
least-squares seconds per unit on the calibration half (the figures in
digest/budget.py came from it); the error is always reported on the held-out
half, per chunk and per article (what `--max-minutes` acts on).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from digest.article import parse_article
from digest.budget import estimate_chunk, speech_units
from digest.engines import Speaker, create_engine
from digest.mp3 import read_frames
from digest.reading import read_text
from digest.script import build_script, split_sentences

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [
    p
    for folder in (Path("/work/shared/samples"), ROOT / "examples")
    if folder.is_dir()
    for p in sorted(folder.iterdir())
    if p.suffix in (".txt", ".md") and p.name != "README.md"
]


def solve(rows: list[tuple[list[float], float]]) -> list[float]:
    """Least squares by the normal equations (a handful of unknowns; no numpy needed)."""
    n = len(rows[0][0])
    # a whisker of ridge keeps a unit that never occurs (digits, in zh-CN text) solvable
    a = [
        [sum(x[i] * x[j] for x, _ in rows) + (1e-6 if i == j else 0) for j in range(n)]
        for i in range(n)
    ]
    b = [sum(x[i] * y for x, y in rows) for i in range(n)]
    for col in range(n):  # Gauss-Jordan
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot], b[col], b[pivot] = a[pivot], a[col], b[pivot], b[col]
        for r in range(n):
            if r != col and a[col][col]:
                f = a[r][col] / a[col][col]
                a[r] = [v - f * w for v, w in zip(a[r], a[col])]
                b[r] -= f * b[col]
    return [b[i] / a[i][i] if a[i][i] else 0.0 for i in range(n)]


def main() -> None:
    engine = create_engine("offline")
    voice = Speaker(voice="cmn", locale="zh-CN")
    calibration: list[tuple[list[float], float]] = []
    held_out: list[tuple[str, str, float, float]] = []  # article, chunk, real, estimate
    started = time.perf_counter()
    index = 0
    for path in SAMPLES:
        script = build_script(parse_article(read_text(path)), "zh-CN")
        pieces = [c for chapter in script.chapters for c in chapter.chunks]
        # single sentences too, so short and long pieces both constrain the fit
        pieces += [s for c in pieces for s in split_sentences(c)[::3]]
        for chunk in pieces:
            if True:
                speech = asyncio.run(engine.synthesize(chunk, voice))
                real = read_frames(speech.audio).duration
                if index % 2 == 0:
                    calibration.append((list(speech_units(chunk)), real))
                else:
                    held_out.append(
                        (path.name, chunk, real, estimate_chunk(chunk, "offline", "+0%"))
                    )
                index += 1
    elapsed = time.perf_counter() - started
    print(f"{index} chunks from {len(SAMPLES)} articles spoken in {elapsed:.1f} s")
    if "--fit" in sys.argv:
        names = ("hanzi", "latin words", "digits", "clause marks", "sentence marks", "per chunk")
        coefficients = solve(calibration)
        print("fitted seconds per unit (calibration half):")
        for name, value in zip(names, coefficients):
            print(f"  {name:<15} {value:.4f}")
    errors = [abs(est - real) / real for _, _, real, est in held_out]
    errors.sort()
    print(f"held-out chunks: {len(errors)}")
    print(
        f"  per chunk: mean |error| {100 * sum(errors) / len(errors):.1f}%, "
        f"median {100 * errors[len(errors) // 2]:.1f}%, worst {100 * errors[-1]:.1f}%"
    )
    per_article: dict[str, list[float]] = {}
    for name, _, real, est in held_out:
        totals = per_article.setdefault(name, [0.0, 0.0])
        totals[0] += real
        totals[1] += est
    print("  per article (held-out chunks summed):")
    for name, (real, est) in per_article.items():
        print(
            f"    {name:<32} real {real:7.1f} s  estimate {est:7.1f} s  error {100 * (est - real) / real:+.1f}%"
        )


def whole_briefing() -> None:
    """The figure --max-minutes acts on: a briefing's estimate against its real length."""
    import datetime as dt
    import tempfile

    from digest.briefing import BriefOptions, build_briefing
    from digest.pipeline import BuildOptions
    from digest.show import Show
    from digest.sources import Story

    stories = [Story(str(p), read_text(p)) for p in SAMPLES]
    with tempfile.TemporaryDirectory() as folder:
        options = BriefOptions(
            build=BuildOptions(
                engine="offline",
                date=dt.date(2026, 11, 30),
                output_dir=Path(folder),
                cache_dir=Path(folder) / "c",
            )
        )
        result = build_briefing(stories, Show(), options)
    real, estimate = result.episode.duration, result.plan.estimate
    print(
        f"whole briefing ({len(stories)} stories, intro, outro, pauses): real {real:.1f} s, "
        f"estimate {estimate:.1f} s, error {100 * (estimate - real) / real:+.1f}%"
    )


if __name__ == "__main__":
    main()
    whole_briefing()
