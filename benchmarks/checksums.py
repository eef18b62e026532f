"""Checksums of the seed episode, both engines, cold and warm: are the bytes unchanged?

    python benchmarks/checksums.py [ARTICLE]

Builds ARTICLE (default: tests/data/meta-talent-war.txt) with the edge engine
against the fake service (`digest_testing/fake_edge.py`, unpaced) and with the
offline engine, each twice with one cache (cold, then warm), and prints the
SHA-256 of every file.  Run it in two checkouts and compare: edge episodes must
not change unless the chunking did, offline ones unless the chunking, the
encoder or the leveling did.  The article's path is part of the episode (its
source tag), so compare runs of the same path.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main() -> int:
    from digest_testing.fake_edge import FakeEdgeServer

    article = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "tests/data/meta-talent-war.txt")
    with FakeEdgeServer(latency=0.0, speed=None) as server, tempfile.TemporaryDirectory() as d:
        for engine in ("edge", "offline"):
            head = (
                [sys.executable, "-m", "digest_testing.against", server.base_url]
                if engine == "edge"
                else [str(BIN / "digest")]
            )
            for run in ("cold", "warm"):
                out = Path(d) / f"{engine}-{run}"
                command = head + [
                    "build", str(article.resolve()), "--engine", engine, "--date", "2026-11-29",
                    "--quiet", "--cache-dir", f"{d}/cache-{engine}", "-o", str(out),
                ]  # fmt: skip
                subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
                for file in sorted(out.iterdir()):
                    digest = hashlib.sha256(file.read_bytes()).hexdigest()
                    suffix = file.name.split(".", 1)[1]
                    print(f"{engine:8} {run:5} {suffix:14} {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
