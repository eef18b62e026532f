"""Benchmark: what naming the episode's file costs a build (issue 14, start-up).

    python benchmarks/slug.py [--repeat 15]

Each variant runs in a fresh interpreter that has already imported digest.outputs (as a
build has when it names its files), then makes one slug, of the seed article's title
(tests/data/meta-talent-war.txt), timed, and those of the other sample titles, untimed:
  * pypinyin      the previous path: `pypinyin.lazy_pinyin` (imports the whole package);
  * digest.pinyin the light reader of pypinyin's data files (today's `slugify`);
  * nothing       no slug at all (the baseline: the interpreter and digest.outputs).
Figures are CPU time of the slug step (process_time: user + system of the child, steadier
than wall time on a shared machine), its wall time, and the child's peak RSS (ru_maxrss),
medians over `--repeat` runs taken round robin so a burst of load hits all variants alike.
Both paths must give the same slugs, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "meta-talent-war.txt"
TITLES = [SEED.read_text(encoding="utf-8").splitlines()[0]] + [
    path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    for path in sorted((ROOT / "tests" / "data").iterdir())
    if path.suffix in (".txt", ".md") and path not in (SEED, SEED.parent / "README.md")
]

CHILD = """
import json, resource, sys, time
import digest.outputs
variant, titles = sys.argv[1], json.loads(sys.argv[2])
if variant == "pypinyin":  # the code path slugify had before digest.pinyin
    import digest.pinyin

    def pypinyin_lazy_pinyin(text):
        from pypinyin import lazy_pinyin
        return lazy_pinyin(text)

    digest.pinyin.lazy_pinyin = pypinyin_lazy_pinyin
cpu, wall = time.process_time(), time.perf_counter()
slugs = [digest.outputs.slugify(titles[0])] if variant != "nothing" else []
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
slugs += [digest.outputs.slugify(t) for t in titles[1:]] if variant != "nothing" else []
pypinyin_imported = any(m.split(".")[0] == "pypinyin" for m in sys.modules)
print(json.dumps({"cpu": cpu, "wall": wall, "rss": peak, "slugs": slugs,
                  "pypinyin_imported": pypinyin_imported}))
"""
VARIANTS = ("pypinyin", "digest.pinyin", "nothing")
MiB = 1024 * 1024


def child(variant: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant, json.dumps(TITLES)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs per variant (median)")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for _ in range(args.repeat):
        for variant in VARIANTS:
            runs[variant].append(child(variant))
    before, after = runs["pypinyin"][0], runs["digest.pinyin"][0]
    if before["slugs"] != after["slugs"]:
        raise SystemExit(f"different slugs:\n{before['slugs']}\n{after['slugs']}")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; {args.repeat} runs each; the same slugs both ways:"
    )
    for title, slug in zip(TITLES, after["slugs"]):
        print(f"  {title} -> {slug}")
    base_rss = statistics.median(r["rss"] for r in runs["nothing"])
    print(
        f"  {'one slug':<16} {'CPU':>9} {'wall':>9} {'peak RSS':>10} {'+RSS':>9}  pypinyin imported"
    )
    for variant in VARIANTS:
        cpu = statistics.median(r["cpu"] for r in runs[variant])
        wall = statistics.median(r["wall"] for r in runs[variant])
        rss = statistics.median(r["rss"] for r in runs[variant])
        print(
            f"  {variant:<16} {cpu:7.3f} s {wall:7.3f} s {rss / MiB:6.1f} MiB "
            f"{(rss - base_rss) / MiB:5.1f} MiB  {runs[variant][0]['pypinyin_imported']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
