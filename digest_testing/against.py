"""Run the digest CLI against a fake edge-tts server in another process.

    python -m digest_testing.against http://127.0.0.1:PORT build article.txt ...

Used by benchmarks and tests that need a real process (timing, signals).
"""

import sys

from digest.cli import main as digest_main
from digest_testing.pointing import point_edge_tts_at


def main() -> None:
    base_url, *arguments = sys.argv[1:]
    with point_edge_tts_at(base_url):
        digest_main(arguments)  # as the console script runs it


if __name__ == "__main__":
    main()
