"""Benchmark: issue 14's figures ("fast at every size"), each as a ratio to a baseline of the same run.

    python benchmarks/scale.py [--three-hours] [--skip-stitch] [--only startup|scheduling|builds]
                               [--engine edge|offline]
                               [--repeat 5] [--latency 0.5] [--speed 20]

Sizes: the seed article, and 10-minute and 1-hour articles generated from the
sample texts in tests/data.  The default run takes about 4 minutes on a 2-core
machine; `--three-hours` adds a 3-hour article and about 5.5 minutes (3 of them
the naive pydub stitch, which `--skip-stitch` leaves out).  "N minutes" is
measured in the fake edge service's speech (0.192 s per character); the
offline voice speaks a little faster.

Every build is a real `digest build` process (python start-up included); edge
builds talk to `digest_testing/fake_edge.py` through the real edge-tts client,
paced like `benchmarks/pipeline.py` (0.5 s latency, 20x real time).  Peak RSS
is that of the build's whole process tree: /proc polled every 100 ms (the sum
over the tree), and never less than the kernel's own maximum for the process.
PSS (proportional set size, polled the same way) is shown beside it: it counts
a page that two processes share (the code of two measuring ffmpegs) once.

Baselines, all measured in the same run:
  * `edge-tts --help` and a bare `python -c pass` (start-up);
  * for warm re-runs, `digest --help` run just before each of them (--repeat
    pairs; medians of each), so both sides of the ratio see the same load;
  * the pacing floor: each request to the fake takes latency + audio/speed, so
    n requests at concurrency c cannot finish before max(longest, sum / c);
    beside it, the longest-first bound of the same requests (the floor plus the
    tail that whole chunks leave) and where the rest of the wall time went:
    start-up before the first request, and from the last answer to the exit;
  * the naive pydub stitch (decode every cached clip, add the pauses, export)
    against digest's frame joiner (assemble + write), on the same clips;
  * for scheduling, the same 8,000 in-memory chunks with no limit to wait on.

Targets from the issue are shown in brackets; the script prints all figures and
does not fail on a missed target (some need work that lands later).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEED = DATA / "meta-talent-war.txt"
SAMPLES = ["meta-talent-war.txt", "ev-market-simplified.txt", "typhoon-traditional.txt"]
BIN = Path(sys.executable).parent
SECONDS_PER_CHAR = 0.192  # the fake service's speech: 8 frames of 24 ms per character
SIZES = {"10 min": 600, "1 hour": 3600, "3 hours": 10800}
MiB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
TIME = Path("/usr/bin/time")  # GNU time: peak RSS and CPU of one command


# -- articles --------------------------------------------------------------------------
def sample_paragraphs() -> list[str]:
    """Body paragraphs of the sample articles (titles and headings left out)."""
    paragraphs = []
    for name in SAMPLES:
        lines = [line.strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
        paragraphs += [line for line in lines[1:] if len(line) > 40]
    return paragraphs


def make_article(seconds: int) -> str:
    """An article of about `seconds` of fake-edge speech: numbered sections of sample
    paragraphs, each paragraph marked so that no two chunks are the same text."""
    paragraphs = sample_paragraphs()
    want = seconds / SECONDS_PER_CHAR
    lines = [f"规模测试：{seconds // 60} 分钟的文章", ""]
    chars, number = 0, 0
    while chars < want:
        if number % 6 == 0:
            lines += [f"{number // 6 + 1:02d} 第{number // 6 + 1}部分的标题", ""]
        paragraph = f"第{number + 1}段。" + paragraphs[number % len(paragraphs)]
        lines += [paragraph, ""]
        chars += sum(1 for ch in paragraph if not ch.isspace())
        number += 1
    return "\n".join(lines)


# -- processes ---------------------------------------------------------------------------
@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and its children
    rss: int  # peak RSS of the process tree, bytes
    stdout: str
    pss: int = 0  # peak PSS of the process tree: shared pages divided among their sharers


def _tree_memory(root: int) -> tuple[int, int]:
    """Sums of resident memory (RSS) and proportional set size (PSS) over `root` and its
    descendants (Linux /proc).  RSS counts a page shared by two processes (the static
    ffmpeg binary's code in two measuring ffmpegs, libc) twice; PSS counts it once."""
    children: dict[int, list[int]] = {}
    pages: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(name)
        children.setdefault(int(fields[1]), []).append(pid)  # field 4: the parent
        pages[pid] = int(fields[21])  # field 24: resident pages
    total, proportional, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        total += pages.get(pid, 0) * PAGE
        proportional += _pss(pid)
        todo += children.get(pid, [])
    return total, proportional


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run(command: list[str], stdin: bytes | None = None) -> Run:
    """Run a command to completion; measure wall time, CPU and peak RSS of its tree.

    GNU time (when installed) gives the kernel's peak RSS and CPU of the command
    itself: unlike this process's RUSAGE_CHILDREN, it is not inflated by the
    benchmark's own size at fork time.
    """
    with tempfile.NamedTemporaryFile("r") as usage:
        timer = ["/usr/bin/time", "-f", "%M %U %S", "-o", usage.name] if TIME.exists() else []
        started = time.perf_counter()
        process = subprocess.Popen(
            timer + command,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        peak = peak_pss = 0
        done = threading.Event()

        def poll() -> None:
            nonlocal peak, peak_pss
            while not done.wait(0.1):
                rss, pss = _tree_memory(process.pid)
                peak, peak_pss = max(peak, rss), max(peak_pss, pss)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        out, err = process.communicate(stdin)
        wall = time.perf_counter() - started
        done.set()
        poller.join()
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{err.decode()}")
        cpu = 0.0
        fields = usage.read().split()[-3:] if timer else []
        if len(fields) == 3:
            peak = max(peak, int(fields[0]) * 1024)
            cpu = float(fields[1]) + float(fields[2])
    return Run(wall, cpu, peak, out.decode(), peak_pss)


def median_of(runs: list[Run]) -> Run:
    """Median wall and CPU, highest peak RSS."""
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        max(r.rss for r in runs),
        runs[0].stdout,
        max(r.pss for r in runs),
    )


def median_runs(commands: dict[str, list[str]], repeat: int, stdin: dict) -> dict[str, Run]:
    """Each command `repeat` times, round robin (so a burst of load hits all alike); medians."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(run(command, stdin.get(name)))
    return {name: median_of(rs) for name, rs in runs.items()}


def ratio_line(label: str, value: float, base: float, unit: str = "s", target: str = "") -> str:
    return (
        f"  {label:<44} {value:8.3f} {unit} / {base:8.3f} {unit} = {value / base:6.2f}x  {target}"
    )


# -- start-up ------------------------------------------------------------------------------
def write_bytecode() -> None:
    """Compile digest's modules as an installed copy has them. With PYTHONDONTWRITEBYTECODE
    set (as on this machine) an editable checkout never keeps its bytecode, so every run
    would compile digest's sources again (about 0.03 s of CPU for a one-line `digest normalize`), while edge-tts, installed
    by pip, starts from its compiled files: that would time the compiler, not start-up."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "digest")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def startup(repeat: int) -> dict[str, Run]:
    write_bytecode()
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import digest.cli": [python, "-c", "import digest.cli"],
        "edge-tts --help": [str(BIN / "edge-tts"), "--help"],
        "digest --help": [str(BIN / "digest"), "--help"],
    }
    commands["digest normalize (one line)"] = [str(BIN / "digest"), "normalize"]
    line = "GPT-4 在 2035 年前後，氣溫 -10℃，漲幅 8%-10%，營收 1.4 兆美元\n".encode()
    return median_runs(commands, repeat, {"digest normalize (one line)": line})


# -- scheduling ------------------------------------------------------------------------------
def scheduling(chunks: int = 8000, concurrency: int = 6) -> tuple[float, float]:
    """Seconds to push `chunks` near-free in-memory chunks through synthesize_script at
    `concurrency`, and with no limit to wait on (the baseline: per-chunk work only)."""
    import asyncio

    from digest.cache import ClipCache
    from digest.engines.base import Boundary, Speaker, Speech
    from digest.script import Script, ScriptChapter
    from digest.synthesis import MAX_CONCURRENCY, synthesize_script
    from digest_testing.fake_engine import FakeEngine, tone_speech

    audio = tone_speech("短句。").audio  # 0.6 s: one short clip serves every chunk
    engine = FakeEngine(handler=lambda text, voice: Speech(audio, (Boundary(0.0, 0.5, text),)))
    texts = [f"第{i}句。" for i in range(chunks)]
    script = Script(
        "t", "zh-CN", tuple(ScriptChapter(f"c{c}", tuple(texts[c::10])) for c in range(10))
    )
    voice = Speaker(voice="fake-voice")

    def timed(limit: int) -> float:
        import digest.synthesis as synthesis

        saved = synthesis.MAX_CONCURRENCY
        synthesis.MAX_CONCURRENCY = max(saved, limit)
        try:
            started = time.perf_counter()
            asyncio.run(
                synthesize_script(script, engine, voice, ClipCache(None), concurrency=limit)
            )
            return time.perf_counter() - started
        finally:
            synthesis.MAX_CONCURRENCY = saved

    assert MAX_CONCURRENCY >= concurrency
    return timed(concurrency), timed(chunks)


# -- builds -----------------------------------------------------------------------------------
def build_command(
    article: Path, engine: str, cache: Path, out: Path, server_url: str | None = None
) -> list[str]:
    head = (
        [sys.executable, "-m", "digest_testing.against", server_url]
        if server_url
        else [str(BIN / "digest")]
    )
    return head + [
        "build", str(article), "--engine", engine, "--date", "2026-11-29", "--quiet", "--json",
        "--concurrency", "6", "--cache-dir", str(cache), "-o", str(out),
    ]  # fmt: skip


def pacing_floor(requests, latency: float, speed: float, concurrency: int = 6) -> float:
    from digest_testing.fake_edge import audio_duration_for

    times = [
        latency + audio_duration_for(r.text or "") / speed for r in requests if r.outcome == "ok"
    ]
    return max(max(times), sum(times) / concurrency) if times else 0.0


def scheduling_bound(requests, latency: float, speed: float, concurrency: int = 6) -> float:
    """The best digest's scheduler can do with the requests actually made: longest first,
    each onto the slot that frees first (no start-up, no checks).  Above the floor by
    the tail: the floor assumes the work splits evenly over the slots."""
    from digest_testing.fake_edge import audio_duration_for

    slots = [0.0] * concurrency
    times = [latency + audio_duration_for(r.text or "") / speed for r in requests if r.ok]
    for seconds in sorted(times, reverse=True):
        heapq.heapreplace(slots, slots[0] + seconds)
    return max(slots)


def timeline(requests, ended: float, wall: float) -> tuple[float, float, float]:
    """Seconds from the build's start to its first request, the span of the requests,
    and from the last answer to the build's exit (server clock: time.monotonic)."""
    ok = [r for r in requests if r.ok and r.finished is not None]
    if not ok:
        return 0.0, 0.0, 0.0
    first, last, began = min(r.started for r in ok), max(r.finished for r in ok), ended - wall
    return first - began, last - first, ended - last


STITCH = """
import asyncio, json, sys, time
from pathlib import Path
from digest.cache import ClipCache
from digest.pipeline import BuildOptions, choose_engine, prepare_script, spread_over_requests
from digest.synthesis import SynthesisStats, synthesize_script
article, cache, out, how = sys.argv[1:5]
options = BuildOptions(engine="edge", concurrency=6)
prepared = prepare_script(article, options)
engine, voice = choose_engine(prepared.preset, options, print)
script = spread_over_requests(prepared.script, engine, options.concurrency, options.chunk_chars)
stats = SynthesisStats()
clips = asyncio.run(synthesize_script(script, engine, voice, ClipCache(Path(cache)), stats=stats))
assert stats.requests == 0, "the stitch reads clips from the warm cache only"
started = time.perf_counter()
if how == "digest":
    import datetime as dt
    from digest.episode import assemble
    from digest.outputs import write_episode
    from digest.tags import EpisodeInfo
    episode = assemble(script, clips)
    info = EpisodeInfo(title="t", show="s", date=dt.date(2026, 11, 29), description="d", engine="edge", voice="v")
    write_episode(episode, info, Path(out))
else:  # the naive way: decode every clip, add the pauses, export (re-encoding everything)
    import io
    from digest.ffmpeg import pydub_segment_class
    AudioSegment = pydub_segment_class()
    episode = AudioSegment.silent(500, 24000)
    for number, chapter in enumerate(clips):
        for index, clip in enumerate(chapter):
            if index:
                episode += AudioSegment.silent(400, 24000)
            episode += AudioSegment.from_file(io.BytesIO(clip.frames.read_data()), format="mp3", codec="mp3")
        episode += AudioSegment.silent(1500, 24000)
    episode.export(str(Path(out) / "naive.mp3"), format="mp3", bitrate="48k")
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--three-hours", action="store_true", help="also build the 3-hour article")
    parser.add_argument("--repeat", type=int, default=5, help="start-up runs per command (median)")
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument(
        "--skip-stitch", action="store_true", help="leave out the naive pydub stitch"
    )
    parser.add_argument(
        "--engine",
        choices=("edge", "offline"),
        help="build with this engine only (default: both)",
    )
    parser.add_argument(
        "--only",
        choices=("startup", "scheduling", "builds"),
        help="run one part (start-up always runs)",
    )
    args = parser.parse_args()
    from digest_testing.fake_edge import FakeEdgeServer

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print("\n1. start-up (median of %d runs, round robin; peak RSS of the process)" % args.repeat)
    s = startup(args.repeat)
    for name, r in s.items():
        print(f"  {name:<30} {r.wall:6.3f} s wall {r.cpu:6.3f} s CPU {r.rss / MiB:6.1f} MiB")
    edge_help, bare = s["edge-tts --help"].wall, s["python -c pass"].wall
    print(
        ratio_line(
            "digest --help vs edge-tts --help",
            s["digest --help"].wall,
            edge_help,
            target="[<= 0.5x]",
        )
    )
    print(
        ratio_line(
            "digest normalize vs edge-tts --help",
            s["digest normalize (one line)"].wall,
            edge_help,
            target="[<= 0.6x]",
        )
    )
    print(ratio_line("import digest.cli vs python -c pass", s["import digest.cli"].wall, bare))

    if args.only in (None, "scheduling"):
        print("\n5. scheduling: 8,000 in-memory chunks (FakeEngine, near-zero cost), concurrency 6")
        limited, unlimited = scheduling()
        print(
            ratio_line(
                "concurrency 6 vs no limit (per-chunk work)",
                limited,
                unlimited,
                target="[< 1 s at concurrency 6]",
            )
        )
    if args.only in ("startup", "scheduling"):
        return 0

    sizes = ["seed"] + [name for name in SIZES if name != "3 hours" or args.three_hours]
    with (
        tempfile.TemporaryDirectory() as scratch_name,
        FakeEdgeServer(latency=args.latency, speed=args.speed) as server,
    ):
        scratch = Path(scratch_name)
        rows = []
        for size in sizes:
            if size == "seed":
                article = SEED
            else:
                article = scratch / f"article-{SIZES[size]}.txt"
                article.write_text(make_article(SIZES[size]), encoding="utf-8")
            for engine in ("edge", "offline"):
                if args.engine not in (None, engine) or (engine == "offline" and size == "seed"):
                    continue
                cache, url = (
                    scratch / f"cache-{engine}-{size}",
                    server.base_url if engine == "edge" else None,
                )
                server.clear()
                cold = run(
                    build_command(article, engine, cache, scratch / f"cold-{engine}-{size}", url)
                )
                ended = time.monotonic()
                floor = (
                    pacing_floor(server.requests, args.latency, args.speed)
                    if engine == "edge"
                    else 0.0
                )
                bound = scheduling_bound(server.requests, args.latency, args.speed)
                spans = timeline(server.requests, ended, cold.wall)
                server.clear()
                # A warm build makes no request, so it runs as a user's would: plain
                # `digest`, not pointed at the fake (whose hook imports edge-tts), and it
                # fails loudly here if it did try to reach the service.
                # Each warm run is paired with a `digest --help` just before it, so that
                # the ratio compares runs made under the same load.
                warm_runs, help_runs = [], []
                for k in range(args.repeat):
                    help_runs.append(run([str(BIN / "digest"), "--help"]))
                    warm_runs.append(
                        run(
                            build_command(
                                article, engine, cache, scratch / f"warm{k}-{engine}-{size}"
                            )
                        )
                    )
                warm, paired_help = median_of(warm_runs), median_of(help_runs).wall
                summary = json.loads(cold.stdout)
                stitch = None
                if engine == "edge" and size != "seed" and not args.skip_stitch:
                    stitch = {}
                    for how in ("digest", "naive"):
                        folder = scratch / f"stitch-{how}-{size}"
                        folder.mkdir()
                        command = [sys.executable, "-c", STITCH, str(article), str(cache)]
                        times, rss = [], 0
                        for _ in range(3 if how == "digest" else 1):  # the naive way is slow
                            r = run(command + [str(folder), how])
                            times.append(json.loads(r.stdout)["seconds"])
                            rss = max(rss, r.rss)
                        stitch[how] = (statistics.median(times), rss)
                rows.append(
                    (
                        size,
                        engine,
                        summary,
                        cold,
                        (warm, paired_help),
                        (floor, bound, spans),
                        stitch,
                    )
                )
                print(
                    f"  built {size} with {engine}: {summary['duration'] / 60:.1f} min of audio",
                    file=sys.stderr,
                )

    print(
        f"\n2-5. builds (concurrency 6; fake edge: latency {args.latency} s, {args.speed:g}x real time)"
    )
    for size, engine, summary, cold, (warm, paired_help), (floor, bound, spans), stitch in rows:
        print(
            f"  {size} / {engine}: {summary['duration'] / 60:.1f} min of audio, {summary['requests']} requests"
        )
        print(
            f"    cold {cold.wall:7.2f} s wall, {cold.cpu:7.2f} s CPU ({cold.cpu / cold.wall:.2f} cores), peak RSS {cold.rss / MiB:6.1f} MiB  [<= 120 MiB] (PSS {cold.pss / MiB:.1f})"
        )
        print(
            f"    warm {warm.wall:7.2f} s wall (median of {args.repeat}), {warm.cpu:7.2f} s CPU, peak RSS {warm.rss / MiB:6.1f} MiB  [<= 120 MiB] (PSS {warm.pss / MiB:.1f})"
        )
        if engine == "edge":
            print(ratio_line("cold build vs pacing floor", cold.wall, floor, target="[<= 1.1x]"))
            print(ratio_line("  longest-first bound of these requests", bound, floor))
            print(
                f"    to the first request {spans[0]:.2f} s, requests {spans[1]:.2f} s,"
                f" last answer to exit {spans[2]:.2f} s"
            )
        if size == "seed":
            print(
                ratio_line(
                    "warm re-run vs digest --help (paired)",
                    warm.wall,
                    paired_help,
                    target="[<= 2x]",
                )
            )
        else:
            print(
                f"  {'warm re-run minus digest --help (paired)':<44} {warm.wall - paired_help:8.3f} s  [3 hours: <= 1.0 s]"
            )
        if stitch:
            (ours, our_rss), (naive, naive_rss) = stitch["digest"], stitch["naive"]
            print(
                ratio_line(
                    "naive pydub stitch vs digest's joiner", naive, ours, target="(keep the lead)"
                )
            )
            print(
                f"    peak RSS: joiner process {our_rss / MiB:.1f} MiB, naive stitch process {naive_rss / MiB:.1f} MiB"
            )
    for engine in ("edge", "offline"):
        peaks = {
            size: max(cold.rss, warm.rss)
            for size, e, _, cold, (warm, _), _, _ in rows
            if e == engine and size != "seed"
        }
        if len(peaks) > 1:
            first, last = list(peaks)[0], list(peaks)[-1]
            print(
                ratio_line(
                    f"{engine}: peak RSS {last} vs {first}",
                    peaks[last] / MiB,
                    peaks[first] / MiB,
                    "MiB",
                    "[1.00 +- 0.15x]",
                )
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
