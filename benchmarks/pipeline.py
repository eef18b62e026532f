"""Benchmark: the seed article, concurrency 6 against 1, and a warm-cache re-run.

    python benchmarks/pipeline.py [--latency 0.5] [--speed 20]

The fake edge-tts server answers every request after `latency` seconds and
streams audio at `speed` times real time, roughly like the real service.
Each build is a real `digest build` process (python start-up included),
talking to the fake through the real edge-tts client.

Targets (issue 2): concurrency 6 at least 4x faster than concurrency 1; a
re-run with a warm cache in at most 1.5 s with zero requests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from digest_testing.fake_edge import FakeEdgeServer

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "meta-talent-war.txt"


def build(server: FakeEdgeServer, cache: Path, out: Path, concurrency: int) -> float:
    command = [
        sys.executable,
        "-m",
        "digest_testing.against",
        server.base_url,
        "build",
        str(SEED),
        "--engine",
        "edge",
        "--date",
        "2026-11-29",
        "--quiet",
        "--concurrency",
        str(concurrency),
        "--cache-dir",
        str(cache),
        "-o",
        str(out),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--speed", type=float, default=20.0)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as scratch,
        FakeEdgeServer(latency=args.latency, speed=args.speed) as server,
    ):
        scratch = Path(scratch)
        serial = build(server, scratch / "cache1", scratch / "out1", concurrency=1)
        requests = len(server.requests)
        audio = sum(r.audio_bytes_total for r in server.requests) / 6000
        server.clear()
        parallel = build(server, scratch / "cache6", scratch / "out6", concurrency=6)
        peak = server.peak_concurrency
        server.clear()
        warm = build(server, scratch / "cache6", scratch / "warm", concurrency=6)
        warm_requests = len(server.requests)
        same = (
            next((scratch / "out6").glob("*.mp3")).read_bytes()
            == next((scratch / "warm").glob("*.mp3")).read_bytes()
            == next((scratch / "out1").glob("*.mp3")).read_bytes()
        )

    speedup = serial / parallel
    print(
        f"seed article: {requests} chunks, {audio:.0f} s of audio; fake server latency {args.latency} s, {args.speed:g}x real time"
    )
    print(f"concurrency 1: {serial:6.2f} s")
    print(
        f"concurrency 6: {parallel:6.2f} s  (peak {peak} connections)  speedup {speedup:.2f}x  [target >= 4x]"
    )
    print(f"warm cache:    {warm:6.2f} s  requests {warm_requests}  [target <= 1.5 s, 0 requests]")
    print(f"identical MP3 bytes across the three builds: {same}")
    ok = speedup >= 4 and warm <= 1.5 and warm_requests == 0 and same
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
