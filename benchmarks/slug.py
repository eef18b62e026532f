"""Benchmark: what naming the episode's file costs a build (issue 14, start-up and warm re-run).

    python benchmarks/slug.py [--repeat 15] [--before REV]

Each variant runs in a fresh interpreter that has already imported digest.outputs (as a
build has when it names its files), then:
  * cold   makes one slug, of the seed article's title (tests/data/meta-talent-war.txt): what
           a build pays, importing digest.pinyin (or pypinyin) and opening its files included;
  * warm   makes that slug again, 20 times (median): the cost once the files are open;
  * long   reads two long texts with `lazy_pinyin`: the seed article (3,667 characters, 656
           distinct: searched) and every normalization case (57,564 characters, 1,479
           distinct: more than `_PHRASE_SEARCHES_AT_MOST`, so the phrase file is scanned in
           full; 1,362 of them need their own reading, and those are searched);
then the other sample titles, untimed. The variants:
  * pypinyin       the path before digest.pinyin: `pypinyin.lazy_pinyin` (imports the package);
  * digest.pinyin  today's `slugify`: bisection over pypinyin's sorted data files;
  * full scan      digest.pinyin made to read both files in full on every call after the
                   first (what it does with a file found out of order): warm and long only;
  * before         (with --before REV) digest/pinyin.py as it was at git revision REV;
  * nothing        no slug at all (the baseline: the interpreter and digest.outputs).
Figures are CPU time (process_time: user + system of the child, steadier than wall time on a
shared machine; wall time too for the cold slug) and the child's peak RSS (ru_maxrss), medians
over `--repeat` runs taken round robin so a burst of load hits all variants alike. Every
variant must give the same slugs and readings, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "meta-talent-war.txt"
TITLES = [SEED.read_text(encoding="utf-8").splitlines()[0]] + [
    path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    for path in sorted((ROOT / "tests" / "data").iterdir())
    if path.suffix in (".txt", ".md") and path not in (SEED, SEED.parent / "README.md")
]
LONG_TEXTS = {
    "seed article": SEED.read_text(encoding="utf-8"),
    "normalization cases": "".join(
        path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "tests" / "normalize_cases").glob("*.tsv"))
    ),
}

CHILD = """
import hashlib, json, resource, statistics, sys, time
import digest.outputs
variant, before = sys.argv[1:]
titles, long_texts = json.load(sys.stdin)  # sent by the parent: too long for arguments
if variant == "pypinyin":  # the code path slugify had before digest.pinyin
    import digest.pinyin

    def pypinyin_lazy_pinyin(text):
        from pypinyin import lazy_pinyin
        return lazy_pinyin(text)

    digest.pinyin.lazy_pinyin = pypinyin_lazy_pinyin
elif variant == "before":  # slugify imports digest.pinyin on its first call: this one
    sys.path.insert(0, before)
    import digest_pinyin_before
    sys.modules["digest.pinyin"] = digest_pinyin_before
if variant == "nothing":
    print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
    sys.exit()
cpu, wall = time.process_time(), time.perf_counter()
slugs = [digest.outputs.slugify(titles[0])]
cold_cpu, cold_wall = time.process_time() - cpu, time.perf_counter() - wall
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
if variant == "full scan":
    sys.modules["digest.pinyin"]._PHRASE_SEARCHES_AT_MOST = 0
    sys.modules["digest.pinyin"]._READING_SEARCHES_AT_MOST = 0
warm = []
for _ in range(20):
    cpu = time.process_time()
    digest.outputs.slugify(titles[0])
    warm.append(time.process_time() - cpu)
lazy_pinyin = sys.modules["digest.pinyin"].lazy_pinyin
long, readings = {}, hashlib.sha256()
for name, text in long_texts.items():
    cpu = time.process_time()
    words = lazy_pinyin(text)
    long[name] = time.process_time() - cpu
    readings.update(json.dumps(words).encode())
slugs += [digest.outputs.slugify(t) for t in titles[1:]]
print(json.dumps({"cold_cpu": cold_cpu, "cold_wall": cold_wall, "rss": rss,
                  "warm": statistics.median(warm), "long": long, "slugs": slugs,
                  "readings": readings.hexdigest(),
                  "pypinyin_imported": any(m.split(".")[0] == "pypinyin" for m in sys.modules)}))
"""
MiB = 1024 * 1024


def child(variant: str, before: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant, before],
        input=json.dumps([TITLES, LONG_TEXTS]),
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
    parser.add_argument("--before", metavar="REV", help="also time digest/pinyin.py at REV")
    args = parser.parse_args()
    variants = ["pypinyin", "digest.pinyin", "full scan"] + ["before"] * bool(args.before)
    with tempfile.TemporaryDirectory() as before:
        if args.before:
            source = subprocess.run(
                ["git", "show", f"{args.before}:digest/pinyin.py"],
                capture_output=True, text=True, check=True, cwd=ROOT,
            ).stdout  # fmt: skip
            Path(before, "digest_pinyin_before.py").write_text(source, encoding="utf-8")
        runs: dict[str, list[dict]] = {v: [] for v in [*variants, "nothing"]}
        for _ in range(args.repeat):
            for variant in runs:
                runs[variant].append(child(variant, before))
    first = {v: runs[v][0] for v in variants}
    for variant, run in first.items():
        if (run["slugs"], run["readings"]) != (
            first["pypinyin"]["slugs"],
            first["pypinyin"]["readings"],
        ):
            raise SystemExit(f"{variant} differs from pypinyin:\n{run['slugs']}")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; {args.repeat} runs each; the same slugs and readings "
        f"every way:"
    )
    for title, slug in zip(TITLES, first["pypinyin"]["slugs"]):
        print(f"  {title} -> {slug}")
    base_rss = statistics.median(r["rss"] for r in runs["nothing"])
    long_names = list(LONG_TEXTS)
    print(
        f"  {'':<14} {'cold slug: CPU':>14} {'wall':>9} {'+RSS':>9} {'warm slug':>10} "
        + " ".join(f"{name:>20}" for name in long_names)
        + "  pypinyin imported"
    )
    for variant in variants:

        def median(field: str, of: list[dict] = runs[variant]) -> float:
            return statistics.median(r[field] for r in of)

        long = [statistics.median(r["long"][name] for r in runs[variant]) for name in long_names]
        print(
            f"  {variant + (f' {args.before}' if variant == 'before' else ''):<14} "
            f"{median('cold_cpu') * 1e3:11.2f} ms {median('cold_wall') * 1e3:6.2f} ms "
            f"{(median('rss') - base_rss) / MiB:5.1f} MiB {median('warm') * 1e3:7.3f} ms "
            + " ".join(f"{seconds * 1e3:17.2f} ms" for seconds in long)
            + f"  {first[variant]['pypinyin_imported']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
