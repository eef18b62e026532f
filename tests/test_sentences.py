"""The one sentence splitter shared by chunking, the offline engine's boundaries and the fake."""

from digest.sentences import sentence_spans, split_sentences


def test_sentences_end_at_end_marks_and_keep_their_closers():
    assert split_sentences("他說：「好！」然後走了。\n\n第二段？是的") == [
        "他說：「好！」",
        "然後走了。",
        "第二段？",
        "是的",
    ]
    assert split_sentences("他说：“好。”然后走了！真的吗？是；") == [
        "他说：“好。”",
        "然后走了！",
        "真的吗？",
        "是；",
    ]
    assert split_sentences("等等……然后呢？") == ["等等……", "然后呢？"]
    assert split_sentences("  \n ") == []


def test_spans_point_into_the_text_and_unspeakable_pieces_join_the_previous_sentence():
    text = "  第一句。……」第二句！"
    spans = sentence_spans(text)
    assert [s.text for s in spans] == ["第一句。……」", "第二句！"]
    for s in spans:
        assert text[s.start : s.end] == s.text
