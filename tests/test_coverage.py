"""A stream cut between two sentences is a truncation too (issue 9.8).

The audio then ends exactly where the last boundary received ends, so the
length check alone passes it; the boundaries' text must reach the chunk's
last sentence.
"""

from __future__ import annotations

import datetime as dt

import pytest

from digest.coverage import check_covered
from digest.engines.base import Boundary, EngineError
from digest.pipeline import BuildOptions, build_episode
from digest.synthesis import RetryPolicy
from digest_testing.fake_edge import split_sentences

TEXT = "今天天气很好。明天有小雨，气温十五度。后天转晴。"


def bounds(*texts: str) -> list[Boundary]:
    return [Boundary(float(n), n + 0.9, text) for n, text in enumerate(texts)]


def test_boundaries_reaching_the_last_sentence_pass():
    check_covered(TEXT, bounds("今天天气很好。", "明天有小雨，气温十五度。", "后天转晴。"))


def test_the_service_rewriting_its_boundary_text_still_passes():
    # merged sentences, other punctuation, spaces, width and case: the words are what count
    check_covered("苹果发布 iPhone 十七。售价五千元！", bounds("苹果发布IPHONE十七 售价五千元"))
    check_covered(TEXT, bounds("今天天气很好。明天有小雨,气温十五度.", "后天转晴"))
    # one character rewritten in a short last sentence
    check_covered(TEXT, bounds("今天天气很好。", "明天有小雨，气温十五度。", "后天转晴啦。"))


@pytest.mark.parametrize(
    "received",
    [
        ("今天天气很好。", "明天有小雨，气温十五度。"),  # the last sentence is missing
        ("今天天气很好。",),
        (),
    ],
)
def test_a_missing_last_sentence_is_a_retryable_truncation(received):
    with pytest.raises(EngineError) as caught:
        check_covered(TEXT, bounds(*received))
    assert caught.value.retryable and "cut short" in str(caught.value)


def test_trailing_punctuation_only_is_nothing_to_miss():
    check_covered("好的。……", bounds("好的。"))
    check_covered("……", [])


def test_a_stream_cut_between_sentences_is_retried_and_never_stitched(fake_edge, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(f"天气\n\n{TEXT}\n", encoding="utf-8")
    options = BuildOptions(
        engine="edge",
        output_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        date=dt.date(2026, 3, 1),
        retry=RetryPolicy(attempts=3, base_delay=0.01, timeout=10),
    )
    fake_edge.fail_next("cut_between")
    result = build_episode(article, options)
    cut, good = fake_edge.requests
    assert cut.outcome == "cut_between" and good.outcome == "ok"
    assert len(split_sentences(cut.text)) >= 3
    assert cut.boundaries_sent == len(split_sentences(cut.text)) - 1
    assert 0 < cut.audio_bytes_sent < cut.audio_bytes_total
    assert result.stats.retries == 1
    # the episode holds the whole text: every sentence has its subtitle cue
    spoken = "".join(cue.text for cue in result.episode.cues)
    assert spoken.endswith("后天转晴。")
