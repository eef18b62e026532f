"""Which extractor wins where: trafilatura alone, the hand-written one, and digest.web.

    .venv/bin/python benchmarks/extractors.py

On every saved page in tests/pages/ (the expectations are the ones
tests/test_web.py asserts), each extractor is scored on: the headline, the
sub-heads found as sections, the story phrases kept, and the boilerplate
phrases (navigation, related cards, comments, paywall, editor lines, ...)
leaked into what would be spoken.  A page is "clean" when all four are right.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_web import CASES, PAGES  # noqa: E402

from digest.article import parse_article  # noqa: E402
from digest.html_text import html_to_text  # noqa: E402
from digest.web import decode_page, extract_page  # noqa: E402


def trafilatura_alone(html: str) -> str:
    import trafilatura

    text = trafilatura.extract(
        html, output_format="markdown", include_formatting=True, include_comments=False
    )
    title = trafilatura.extract_metadata(html).title or ""
    text = text or ""
    return text if text.startswith("# ") else f"# {title}\n\n{text}"


EXTRACTORS = {
    "trafilatura": trafilatura_alone,
    "hand-written": html_to_text,
    "digest.web": lambda html: extract_page(html, "http://127.0.0.1/").text,
}


def score(text: str, headline: str, sections: list[str], wanted: list[str], unwanted: list[str]):
    article = parse_article(text)
    spoken = "\n".join(p for s in article.sections for p in (s.title, *s.paragraphs))
    found = [s.title for s in article.sections if s.kind != "lead"]
    return {
        "headline": article.title == headline,
        "sections": found == sections,
        "kept": sum(w in spoken for w in wanted) == len(wanted),
        "leaked": [u for u in unwanted if u in spoken],
    }


def main() -> None:
    totals = {name: 0 for name in EXTRACTORS}
    timings = {name: 0.0 for name in EXTRACTORS}
    print(f"{'page':<32}" + "".join(f"{name:>34}" for name in EXTRACTORS))
    for name, _, headline, sections, wanted, unwanted in CASES:
        html = decode_page((PAGES / name).read_bytes(), None, name)
        cells = []
        for extractor, function in EXTRACTORS.items():
            started = time.perf_counter()
            text = function(html)
            timings[extractor] += time.perf_counter() - started
            result = score(text, headline, sections, wanted, unwanted)
            clean = (
                result["headline"]
                and result["sections"]
                and result["kept"]
                and not result["leaked"]
            )
            totals[extractor] += clean
            problems = [k for k in ("headline", "sections", "kept") if not result[k]]
            if result["leaked"]:
                problems.append(f"leaks {len(result['leaked'])}")
            cells.append("clean" if clean else ", ".join(problems))
        print(f"{name:<32}" + "".join(f"{cell:>34}" for cell in cells))
    print(
        f"{'clean pages':<32}" + "".join(f"{f'{totals[n]}/{len(CASES)}':>34}" for n in EXTRACTORS)
    )
    print(f"{'time (all pages)':<32}" + "".join(f"{f'{timings[n]:.2f} s':>34}" for n in EXTRACTORS))


if __name__ == "__main__":
    main()
