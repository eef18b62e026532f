"""Benchmark: what an espeak worker costs, to choose how often the offline engine renews one.

    python benchmarks/espeak_workers.py [--utterances 40] [--starts 10]

Speaks the chunks of a 3-hour article (benchmarks/scale.py's) one after another
in one worker (`digest.engines.espeak_pool.Worker`, never renewed) and prints the
worker's RSS (from /proc) after its hello and after every few utterances: the
growth per utterance is what espeak's fresh load for each utterance leaves
behind.  Then starts `--starts` workers one after another and prints the wall
time and CPU of a start (interpreter, imports, espeak's first load, the hello),
and the wall time of a renewal (the worker's exec of itself, to its new hello).
From these, RECYCLE_AFTER in `digest/engines/espeak_pool.py` is chosen: the
growth a worker may reach against the renewals a 3-hour episode needs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
MiB = 1024 * 1024


def rss(pid: int) -> float:
    """Resident memory of process `pid` in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def chunks(count: int) -> list[str]:
    """The first `count` chunks of the 3-hour article, as the engine gets them."""
    from scale import make_article

    from digest.pipeline import BuildOptions, prepare_text

    prepared = prepare_text(make_article(10800), BuildOptions(engine="offline"))
    texts = [text for chapter in prepared.script.chapters for text in chapter.chunks]
    return texts[:count]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utterances", type=int, default=40)
    parser.add_argument("--starts", type=int, default=10)
    args = parser.parse_args()

    from digest.engines import espeak_binding
    from digest.engines.espeak_pool import RECYCLE_AFTER, Worker
    from digest.engines.espeak_voices import flat_voice_file

    texts = chunks(args.utterances)
    voice_file = flat_voice_file(espeak_binding.data_path(), "cmn", 0)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(
        f"{len(texts)} chunks of the 3-hour article, {statistics.mean(map(len, texts)):.0f} characters on average"
    )

    worker = Worker()
    base = rss(worker.pid)
    print(f"\nworker RSS after its hello: {base:.1f} MiB")
    marks = {1, 2, 4, 8, 12, 16, 20, 24, 32, 40, 60, 80}
    seconds = []
    for n, text in enumerate(texts, 1):
        start = time.perf_counter()
        worker.speak(
            {"text": text, "voice": "cmn", "voice_file": voice_file, "wpm": 220, "amplitude": 55},
            60.0,
        )
        seconds.append(time.perf_counter() - start)
        if n in marks or n == len(texts):
            now = rss(worker.pid)
            print(
                f"  after {n:3d} utterances: {now:6.1f} MiB (+{now - base:5.1f}, {(now - base) / n:.2f} per utterance)"
            )
    worker.stop()
    print(
        f"one utterance: {statistics.median(seconds) * 1000:.0f} ms median wall (in the worker, with the transfer)"
    )

    walls, cpus = [], []
    for _ in range(args.starts):
        cpu, start = children_cpu(), time.perf_counter()
        w = Worker()
        walls.append(time.perf_counter() - start)
        w.stop()
        cpus.append(children_cpu() - cpu)
    print(
        f"\nstarting a worker (to its hello): {statistics.median(walls) * 1000:.0f} ms wall, "
        f"{statistics.median(cpus) * 1000:.0f} ms CPU (median of {args.starts})"
    )
    w = Worker()
    walls = []
    for _ in range(args.starts):
        start = time.perf_counter()
        w.renew()
        w._hello()
        walls.append(time.perf_counter() - start)
    after = rss(w.pid)
    w.stop()
    print(
        f"renewing a worker (exec, to its hello): {statistics.median(walls) * 1000:.0f} ms wall "
        f"(median of {args.starts}); RSS after: {after:.1f} MiB"
    )
    print(
        f"RECYCLE_AFTER = {RECYCLE_AFTER}: a worker grows by about {(now - base) / len(texts) * RECYCLE_AFTER:.1f} MiB before it renews itself"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
