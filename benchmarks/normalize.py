"""Benchmark the speech normalizer: throughput, and agreement with wetext as an oracle.

    python benchmarks/normalize.py [--repeat N] [--show N]

Throughput: the sample articles in tests/data plus the normalizer's test inputs (not the
held-out set, so the figure stays comparable over time), repeated to at least 10,000
characters, normalized line by line (as the pipeline does) on one core.
Target: ≥ 200,000 characters per second; the headroom over it is printed too.

Held-out agreement: tests/normalize_cases/heldout_*.tsv and fresh*_*.tsv are realistic news sentences whose
expected readings were written from the style guide before the normalizer saw them; the
share we get exactly right (and, with wetext installed, the share wetext gets right).

Differential oracle: wetext (WeTextProcessing's runtime) is NOT a dependency of digest.
Install it only to run this comparison:

    pip install wetext

Without it the script prints throughput only. Agreement is measured on zh-CN lines: the
line counts as agreeing when both outputs are identical after removing blanks. The
disagreements are listed so you can see where wetext is right and we are not (most are
the wetext mistakes the style guide §3 lists: GPT负五, 两千零三十三年, 十八兆元 …).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.normalization import normalize  # noqa: E402
from digest.normalization.conversion import convert_script  # noqa: E402

TARGET = 200_000  # characters per second
# the news sets written before the normalizer saw them (heldout_*, fresh2_* …): measured
# for agreement, kept out of the throughput corpus so that figure stays comparable
HELDOUT_PREFIXES = ("heldout_", "fresh")


def heldout() -> list[tuple[str, str, str]]:
    """(locale, input, expected) of the held-out news set."""
    cases = []
    for path in sorted((ROOT / "tests" / "normalize_cases").glob("*.tsv")):
        if not path.name.startswith(HELDOUT_PREFIXES):
            continue
        for ln in path.read_text(encoding="utf-8").splitlines():
            if ln and not ln.startswith("#"):
                locale, text, expected = ln.split("\t")[:3]
                cases.append((locale, text, expected))
    return cases


def corpus() -> list[str]:
    lines: list[str] = []
    for path in sorted((ROOT / "tests" / "data").glob("*")):
        if path.suffix in (".txt", ".md") and path.name != "README.md":
            lines += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    for path in sorted((ROOT / "tests" / "normalize_cases").glob("*.tsv")):
        if path.name.startswith(HELDOUT_PREFIXES):
            continue
        for ln in path.read_text(encoding="utf-8").splitlines():
            if ln and not ln.startswith("#"):
                lines.append(ln.split("\t")[1])
    return lines


def throughput(lines: list[str], repeat: int) -> float:
    text_chars = sum(len(ln) for ln in lines)
    copies = max(1, -(-10_000 // text_chars))  # at least 10,000 characters per pass
    work = lines * copies
    chars = text_chars * copies
    for ln in work[:200]:  # warm caches (OpenCC tables, compiled regexes)
        normalize(ln)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for ln in work:
            normalize(ln)
        best = min(best, time.perf_counter() - start)
    rate = chars / best
    print(
        f"throughput: {chars:,} characters in {best * 1000:.1f} ms (best of {repeat}) = {rate:,.0f} chars/s "
        f"[target {TARGET:,}: {'OK' if rate >= TARGET else 'BELOW TARGET'}, headroom {rate / TARGET - 1:+.0%}]"
    )
    return rate


def heldout_agreement(show: int) -> None:
    cases = heldout()
    if not cases:
        return
    wrong = [(loc, src, exp, out) for loc, src, exp in cases if (out := normalize(src, loc)) != exp]
    right = len(cases) - len(wrong)
    print(
        f"held-out agreement: {right}/{len(cases)} sentences = {right / len(cases):.1%} exactly as the style guide says"
    )
    for loc, src, exp, out in wrong[:show]:
        print(f"  [{loc}] in:  {src}\n         exp: {exp}\n         got: {out}")
    try:
        from wetext import Normalizer
    except ImportError:
        return
    wetext = Normalizer(lang="zh", operator="tn")
    squeeze = lambda s: "".join(s.split())  # noqa: E731
    cn = [(src, exp) for loc, src, exp in cases if loc.startswith("zh-CN")]
    hits = 0
    for src, exp in cn:
        try:
            hits += squeeze(wetext.normalize(convert_script(src, mainland=True))) == squeeze(exp)
        except Exception:  # pragma: no cover - depends on wetext
            pass
    print(
        f"held-out, wetext for comparison: {hits}/{len(cn)} zh-CN sentences = {hits / len(cn):.1%} (blanks ignored)"
    )


def compare_with_wetext(lines: list[str], show: int) -> None:
    try:
        from wetext import Normalizer
    except ImportError:
        print("wetext comparison skipped: wetext is not installed (pip install wetext)")
        return
    wetext = Normalizer(lang="zh", operator="tn")
    # wetext does not convert script well (it misses 於→于), so give it Simplified input
    pairs = []
    for ln in dict.fromkeys(lines):
        simplified = convert_script(ln, mainland=True)
        ours = normalize(ln, "zh-CN")
        try:
            theirs = wetext.normalize(simplified)
        except Exception as e:  # pragma: no cover - depends on wetext
            theirs = f"<wetext error: {e}>"
        pairs.append((ln, ours, theirs))
    squeeze = lambda s: "".join(s.split())  # noqa: E731
    differ = [p for p in pairs if squeeze(p[1]) != squeeze(p[2])]
    agree = len(pairs) - len(differ)
    print(f"wetext agreement: {agree}/{len(pairs)} lines = {agree / len(pairs):.1%}")
    print(f"disagreements ({len(differ)}; first {min(show, len(differ))}):")
    for src, ours, theirs in differ[:show]:
        print(f"  in:     {src}\n  ours:   {ours}\n  wetext: {theirs}\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="timing runs; the best is reported")
    parser.add_argument(
        "--show", type=int, default=60, help="how many wetext disagreements to list"
    )
    args = parser.parse_args()
    lines = corpus()
    rate = throughput(lines, args.repeat)
    heldout_agreement(args.show)
    compare_with_wetext(lines, args.show)
    sys.exit(0 if rate >= TARGET else 1)


if __name__ == "__main__":
    main()
