"""Chaos benchmark: one long episode, built fault-free and under a 15% mixed fault rate.

    python benchmarks/chaos.py [--rate 0.15] [--seed 7] [--concurrency 6]

Both builds run the REAL edge_tts client against the fake edge-tts server
(digest_testing.fake_edge), with the same article and --date and separate
cache folders.  The fake's audio is a pure function of the text, so the
episode built through the faults must be byte-identical to the fault-free one:
any truncated, stalled or malformed response that slipped through would show.
Prints requests, retries, faults by kind and wall times; exits 1 if the two
MP3 files differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import edge_tts.drm

from digest.pipeline import BuildOptions, build_episode, prepare_script
from digest.synthesis import RetryPolicy
from digest_testing.fake_edge import FakeEdgeServer, point_edge_tts_at

FAULTS = [
    "403_skew",
    "429",
    "503",
    "reset",  # at the HTTP upgrade
    "no_audio",
    "truncate",
    "reset_midstream",
    "stall",
    "stall_silent",  # in the stream
    "malformed",
    "bad_binary",
    "bad_metadata",
]
DATE = dt.date(2025, 6, 1)
CHUNK_CHARS = 120
IDLE_TIMEOUT = 1.0
RETRY = RetryPolicy(attempts=8, base_delay=0.05, max_delay=0.5, timeout=20.0)

_PLACES = ["北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "重庆"]
_TOPICS = ["交通", "教育", "医疗", "住房", "环保", "就业", "科技", "文化", "体育", "旅游"]


def article_text(sections: int = 60) -> str:
    """A long multi-section article, the same on every call."""
    parts = ["一周城市要闻汇总"]
    for n in range(sections):
        place, topic = _PLACES[n % len(_PLACES)], _TOPICS[(n * 3) % len(_TOPICS)]
        parts.append(f"{n + 1}. {place}{topic}新动向")
        for p in range(2):
            parts.append(
                f"{place}市有关部门本周公布了{topic}领域的第{n * 2 + p + 1}项新措施。"
                f"据介绍，这项措施覆盖{(n + 3) * (p + 2)}个街道，预计惠及数十万居民。"
                f"记者在现场看到，不少市民专程前来咨询，工作人员耐心解答每一个问题。"
                f"专家指出，{topic}工作关系千家万户，{place}的做法值得其他城市借鉴。"
                f"下一步，相关部门还将根据市民反馈继续完善细则，确保政策落到实处。"
            )
    return "\n\n".join(parts)


def build(server: FakeEdgeServer, article: Path, root: Path, concurrency: int):
    options = BuildOptions(
        engine="edge",
        date=DATE,
        output_dir=root / "out",
        cache_dir=root / "cache",
        chunk_chars=CHUNK_CHARS,
        concurrency=concurrency,
        retry=RETRY,
        idle_timeout=IDLE_TIMEOUT,
    )
    edge_tts.drm.DRM.clock_skew_seconds = 0.0
    started = time.monotonic()
    result = build_episode(article, options)
    return result, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.15, help="fault rate (default 0.15)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument(
        "--latency", type=float, default=0.02, help="fake server latency per request"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="digest-chaos-") as tmp:
        root = Path(tmp)
        article = root / "article.txt"
        article.write_text(article_text(), encoding="utf-8")
        script = prepare_script(
            article, BuildOptions(engine="edge", chunk_chars=CHUNK_CHARS)
        ).script
        chunks = script.chunk_count
        print(
            f"article: {len(article.read_text(encoding='utf-8')):,} characters, "
            f"{len(script.chapters)} chapters, {chunks} chunks (chunk_chars={CHUNK_CHARS})"
        )
        if chunks < 150:
            print("error: fewer than 150 chunks", file=sys.stderr)
            return 1

        with FakeEdgeServer(latency=args.latency) as server, point_edge_tts_at(server):
            clean, clean_s = build(server, article, root / "clean", args.concurrency)
            clean_requests = server.count()

            server.reset()
            server.fault_rate(args.rate, faults=FAULTS, seed=args.seed)
            chaos, chaos_s = build(server, article, root / "chaos", args.concurrency)
            log = server.requests
        edge_tts.drm.DRM.clock_skew_seconds = 0.0

        a, b = clean.files.mp3.read_bytes(), chaos.files.mp3.read_bytes()
        identical = a == b and clean.files.mp3.name == chaos.files.mp3.name
        faults = Counter(r.outcome for r in log if r.outcome not in ("ok", "client_gone"))
        print(
            f"settings: fault rate {args.rate:.0%} of {len(FAULTS)} kinds, seed {args.seed}, "
            f"concurrency {args.concurrency}, idle_timeout {IDLE_TIMEOUT:g} s, "
            f"retry base {RETRY.base_delay:g} s x{RETRY.attempts}, server latency {args.latency:g} s"
        )
        print(
            f"fault-free: {clean_requests} requests, {clean.stats.retries} retries, "
            f"wall {clean_s:.2f} s"
        )
        print(
            f"chaos:      {len(log)} connections at the server ({chaos.stats.requests} digest requests; "
            f"the rest are edge-tts/aiohttp's own repeats after a 403 or reset), "
            f"{chaos.stats.retries} retries, {chaos.stats.throttled} throttled, wall {chaos_s:.2f} s "
            f"({chaos_s / clean_s:.1f}x the fault-free run)"
        )
        print(
            f"faults injected: {sum(faults.values())} "
            + "("
            + ", ".join(f"{k}={v}" for k, v in sorted(faults.items()))
            + ")"
        )
        print(f"good answers: {sum(1 for r in log if r.ok)} for {chunks} chunks")
        print(
            f"episode: {chaos.files.mp3.name}, {len(b):,} bytes, {chaos.episode.duration:.1f} s, "
            f"sha256 {hashlib.sha256(b).hexdigest()[:16]}"
        )
        print(f"byte-identical to the fault-free run: {'yes' if identical else 'NO'}")
        return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
