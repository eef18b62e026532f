from pathlib import Path

from digest.article import parse_article
from digest.script import (
    MAX_CHUNK_BYTES,
    build_script,
    chunk_sentences,
    split_sentences,
)

DATA = Path(__file__).parent / "data"


def test_split_sentences_keeps_punctuation_and_closing_quotes():
    assert split_sentences("他说：“好。”然后走了！真的吗？是；") == [
        "他说：“好。”",
        "然后走了！",
        "真的吗？",
        "是；",
    ]


def test_chunks_are_balanced_whole_sentences_within_the_limit():
    sentences = ["甲" * 99 + "。"] * 6  # 600 characters
    chunks = chunk_sentences(sentences, max_chars=500)
    assert [len(c) for c in chunks] == [300, 300]
    assert "".join(chunks) == "".join(sentences)


def test_a_sentence_longer_than_a_chunk_is_cut_at_commas_then_anywhere():
    long_sentence = "，".join(["乙" * 40] * 20) + "。"  # 820 characters, commas every 41
    chunks = chunk_sentences([long_sentence], max_chars=300)
    assert all(len(c) <= 300 for c in chunks)
    assert "".join(chunks) == long_sentence
    assert all(c.endswith(("，", "。")) for c in chunks)
    no_commas = chunk_sentences(["丙" * 700 + "。"], max_chars=300)
    assert [len(c) for c in no_commas] == [300, 300, 101]


def test_punctuation_only_pieces_are_never_sent_alone():
    assert chunk_sentences(["……"]) == []
    assert chunk_sentences(["好的。", "……"]) == ["好的。……"]


def test_seed_script_heading_title_and_simplified_text():
    article = parse_article((DATA / "meta-talent-war.txt").read_text(encoding="utf-8"))
    script = build_script(article, "zh-CN")
    assert len(script.chapters) == 7
    first = script.chapters[0].chunks[0]
    assert first.startswith("Meta开天价")  # the title opens the episode, in Simplified
    assert script.chapters[1].chunks[0].startswith("事件核心")  # the heading, without "01"
    assert "零一" not in script.chapters[1].chunks[0]
    for chapter in script.chapters:
        assert chapter.title == chapter.title.strip()
        for chunk in chapter.chunks:
            assert len(chunk) <= 500 and len(chunk.encode("utf-8")) <= MAX_CHUNK_BYTES
            assert not any(ch.isdigit() for ch in chunk), chunk
    traditional = build_script(article, "zh-TW")
    assert traditional.chapters[0].chunks[0].startswith("Meta開天價")
    assert script.chapters[1].title == traditional.chapters[1].title == article.sections[1].title


def test_every_sentence_of_the_article_is_spoken_once():
    article = parse_article((DATA / "ev-market-simplified.txt").read_text(encoding="utf-8"))
    script = build_script(article, "zh-CN")
    spoken = "".join(c for chapter in script.chapters for c in chapter.chunks)
    assert spoken.count("协会预计") == 1
    assert spoken.count("主要出口市场包括") == 1
    assert len(script.chapters) == 5


def test_title_only_article_is_spoken_once():
    script = build_script(parse_article("只有一个标题"), "zh-CN")
    assert script.chapters[0].chunks == ("只有一个标题。",)


def test_headings_get_a_full_stop_even_after_a_closing_quote():
    from digest.script import as_sentence

    assert as_sentence("未来影响：大战加剧“马太效应”") == "未来影响：大战加剧“马太效应”。"
    assert as_sentence("他问：“为什么？”") == "他问：“为什么？”"
    assert as_sentence("结语") == "结语。"
    assert as_sentence("慌了吗?") == "慌了吗?"


def test_latin_sentences_keep_the_space_between_them():
    sentences = split_sentences("Is it true? Yes! 真的。好。")
    assert sentences == ["Is it true?", "Yes!", "真的。", "好。"]
    assert chunk_sentences(sentences) == ["Is it true? Yes!真的。好。"]
