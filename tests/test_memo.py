"""Results a warm build remembers (digest.memo): the chunk plan, the file name, the ID3 tag.

A remembered result must be the result: each test compares it with the same thing
computed afresh, after every change of input that could make a stale one differ.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

import pytest
from mutagen.id3 import ID3, TXXX

from digest import memo
from digest.episode import Chapter, Cue, Episode
from digest.frame_stream import FrameStream
from digest.loudness import Adjustment, Loudness
from digest.mp3 import silence
from digest.outputs import slugify
from digest.pipeline import spread_over_requests
from digest.script import Script, ScriptChapter, balance_chunks
from digest.tags import SOURCE_TAG, EpisodeInfo, build_tag, written_source_id


def counted(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


def remember(root, inputs, compute, **kwargs):
    return memo.remembered(root, "test", inputs, compute, str.encode, bytes.decode, **kwargs)


def test_a_result_is_computed_once_for_the_same_inputs_and_again_for_others(tmp_path):
    compute, calls = counted("甲")
    assert remember(tmp_path, {"a": 1}, compute) == "甲"
    assert remember(tmp_path, {"a": 1}, compute) == "甲"
    assert len(calls) == 1
    assert remember(tmp_path, {"a": 2}, compute) == "甲"
    assert len(calls) == 2


def test_without_a_cache_folder_nothing_is_remembered(tmp_path):
    compute, calls = counted("x")
    remember(None, {}, compute)
    remember(None, {}, compute)
    assert len(calls) == 2


def test_a_stored_value_refused_by_its_kind_is_computed_again_and_rewritten(tmp_path):
    compute, calls = counted("good")
    remember(tmp_path, {}, compute)
    (stored,) = tmp_path.glob("*/*.test")
    stored.write_bytes(b"bad")

    def only_good(data: bytes):
        return data.decode() if data == b"good" else None

    assert memo.remembered(tmp_path, "test", {}, compute, str.encode, only_good) == "good"
    assert len(calls) == 2
    assert stored.read_bytes() == b"good"


def test_a_changed_dependency_or_code_is_a_new_result(tmp_path, monkeypatch):
    dependency = tmp_path / "data.json"
    dependency.write_text("1")
    compute, calls = counted("v")
    remember(tmp_path / "cache", {}, compute, depends_on=[dependency])
    dependency.write_text("22")  # a package upgrade rewrites its files
    remember(tmp_path / "cache", {}, compute, depends_on=[dependency])
    assert len(calls) == 2
    monkeypatch.setattr(memo, "code_stamp", lambda: ("another version",))
    remember(tmp_path / "cache", {}, compute, depends_on=[dependency])
    assert len(calls) == 3


def test_an_unwritable_cache_only_means_computing_again(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    compute, calls = counted("v")
    assert remember(blocked, {}, compute) == "v"
    assert remember(blocked, {}, compute) == "v"
    assert len(calls) == 2


def test_the_code_stamp_names_every_module_of_the_package():
    _, *files = memo.code_stamp()
    names = {path.rsplit("/", 1)[-1] for path, *_ in files}
    assert {"memo.py", "tags.py", "script.py", "pinyin.py", "rules.py"} <= names


# --------------------------------------------------------------------------- the tag


def an_episode(chapters=(("开头", 0.0, 1.0), ("第二章", 1.0, 2.0)), loudness=-19.0) -> Episode:
    audio = FrameStream((silence(2.0),))
    figures = Loudness(loudness, -3.0, 2.0)
    return Episode(
        "标题",
        audio,
        tuple(Chapter(title, start, end) for title, start, end in chapters),
        (Cue(0.1, 0.5, "你好。"),),
        loudness=Adjustment(-19.0, "lossless", 0.0, figures, figures),
    )


INFO = EpisodeInfo(
    title="标题",
    show="节目",
    date=dt.date(2026, 3, 1),
    description="简介",
    engine="edge",
    voice="zh-CN-XiaoxiaoNeural",
    transcript="你好。",
    source_id="0123456789abcdef",
)
CHANGES = [
    {"title": "另一个标题"},
    {"show": "另一个节目"},
    {"date": dt.date(2026, 3, 2)},
    {"description": "另一段简介"},
    {"engine": "offline"},
    {"voice": "zh-TW-HsiaoChenNeural"},
    {"transcript": "再见。"},
    {"source_id": "fedcba9876543210"},
    {"cover": b"\xff\xd8\xff\xe0 a jpeg"},
    {"cover": b"\xff\xd8\xff\xe0 a jpeg", "cover_mime": "image/png"},
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: ",".join(c))
def test_a_remembered_tag_is_the_tag_built_afresh_whatever_changes(tmp_path, change):
    build_tag(an_episode(), INFO, tmp_path)  # the tag of INFO is remembered
    changed = dataclasses.replace(INFO, **change)
    assert build_tag(an_episode(), changed, tmp_path) == build_tag(an_episode(), changed)
    assert build_tag(an_episode(), changed, tmp_path) == build_tag(an_episode(), changed, None)


@pytest.mark.parametrize(
    "episode",
    [
        an_episode(chapters=(("开头", 0.0, 1.2), ("第二章", 1.2, 2.0))),
        an_episode(chapters=(("开头", 0.0, 1.0), ("第三章", 1.0, 2.0))),
        an_episode(chapters=(("开头", 0.0, 2.0),)),
        an_episode(loudness=-18.0),
    ],
)
def test_a_remembered_tag_follows_the_chapters_and_the_level(tmp_path, episode):
    build_tag(an_episode(), INFO, tmp_path)
    assert build_tag(episode, INFO, tmp_path) == build_tag(episode, INFO)
    assert build_tag(episode, INFO) != build_tag(an_episode(), INFO)


def test_a_damaged_remembered_tag_is_built_again(tmp_path):
    fresh = build_tag(an_episode(), INFO, tmp_path)
    (stored,) = tmp_path.glob("*/*.tag.id3")
    stored.write_bytes(fresh[:-1])  # one byte short of its header's size
    assert build_tag(an_episode(), INFO, tmp_path) == fresh
    assert stored.read_bytes() == fresh


def test_the_source_id_read_off_the_bytes_is_what_mutagen_reads():
    tag = build_tag(an_episode(), INFO)
    assert written_source_id(tag) == INFO.source_id
    assert ID3(io.BytesIO(tag)).getall(f"TXXX:{SOURCE_TAG}")[0].text[0] == INFO.source_id
    assert written_source_id(build_tag(an_episode(), dataclasses.replace(INFO, source_id=""))) == ""


def test_a_tag_in_another_form_is_left_to_mutagen():
    other = ID3()
    other.add(TXXX(encoding=3, desc=SOURCE_TAG, text="x"))
    v24 = io.BytesIO()
    other.save(v24, v2_version=4, v1=0)
    assert written_source_id(v24.getvalue()) is None
    latin = ID3()
    latin.add(TXXX(encoding=0, desc=SOURCE_TAG, text="x"))
    v23 = io.BytesIO()
    latin.save(v23, v2_version=3, v1=0)
    assert written_source_id(v23.getvalue()) is None


# --------------------------------------------------------------------------- the name


def test_a_remembered_slug_is_the_slug(tmp_path):
    for title in ("重庆银行行长谈音乐", "Meta開天價“Offer”搶人", "!!!"):
        assert slugify(title, tmp_path) == slugify(title) == slugify(title, tmp_path)
    assert len(list(tmp_path.glob("*/*.slug"))) == 3


def test_a_remembered_slug_that_is_no_slug_is_worked_out_again(tmp_path):
    slugify("重庆银行", tmp_path)
    (stored,) = tmp_path.glob("*/*.slug")
    stored.write_bytes(b"../../etc")
    assert slugify("重庆银行", tmp_path) == "chong-qing-yin-hang"


# --------------------------------------------------------------------------- the plan


class PacedEngine:
    """Only what spread_over_requests asks of an engine."""

    paced_requests = True


SCRIPT = Script(
    "标题",
    "zh-CN",
    tuple(
        ScriptChapter(f"第{n}章", tuple("今天天气很好，我们出去散步吧。" * 6 for _ in range(2)))
        for n in range(3)
    ),
)


@pytest.mark.parametrize("slots", [2, 4, 6])
def test_a_remembered_plan_is_the_plan(tmp_path, slots):
    balanced = balance_chunks(SCRIPT, slots, 200)
    assert spread_over_requests(SCRIPT, PacedEngine(), slots, 200, tmp_path) == balanced
    assert spread_over_requests(SCRIPT, PacedEngine(), slots, 200, tmp_path) == balanced


def test_a_remembered_plan_of_other_text_is_refused(tmp_path):
    balanced = spread_over_requests(SCRIPT, PacedEngine(), 6, 200, tmp_path)
    (stored,) = tmp_path.glob("*/*.plan.json")
    plan = json.loads(stored.read_bytes())
    plan[0][0] = plan[0][0].replace("散步", "跑步")
    stored.write_bytes(json.dumps(plan).encode())
    assert spread_over_requests(SCRIPT, PacedEngine(), 6, 200, tmp_path) == balanced
    stored.write_bytes(b"[[1]]")
    assert spread_over_requests(SCRIPT, PacedEngine(), 6, 200, tmp_path) == balanced
    # each chapter's whole text as one string: it would re-join as one-character chunks
    as_strings = ["".join(chapter.chunks) for chapter in SCRIPT.chapters]
    stored.write_bytes(json.dumps(as_strings).encode())
    assert spread_over_requests(SCRIPT, PacedEngine(), 6, 200, tmp_path) == balanced
