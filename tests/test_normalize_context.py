"""Normalization round 3 (style guide §5): adjacency, cue lists as data, 著, vocabulary, explain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.errors import InputError
from digest.normalization import Rewrite, explain, load_lexicon, normalize, violations

_DIGIT = re.compile(r"[0-9]")

# --- §5.1: two quantities side by side stay two -----------------------------------------------
_NUMBER = st.one_of(
    st.integers(min_value=1, max_value=99_999).map(str),
    st.tuples(st.integers(0, 999), st.integers(1, 99)).map(lambda p: f"{p[0]}.{p[1]}"),
)
_LEAD = st.sampled_from(["涨幅", "共有", "交付", "营收增长", "新增", "全年"])
# what ends the first quantity: a percent sign, a unit, a magnitude or a measure word
_FIRST_END = st.sampled_from(
    ["%", "km", "kg", "MW", "万", "亿", "万元", "亿美元", "个", "家", "名", "架", "岁", "吨"]
)
# what follows the second number: a unit or a measure word, never a magnitude (1 兆 4,500 億
# and 2 千 5 百 are one number written in parts, a legitimate join the guide keeps)
_SECOND_TAIL = st.sampled_from(
    [
        "家子公司扭亏",
        "个城市",
        "名员工",
        "岁以下用户",
        "年营收",
        "架飞机",
        "天内回补",
        "km航程",
        "%的股份",
    ]
)


@settings(max_examples=300, deadline=None)
@given(_LEAD, _NUMBER, _FIRST_END, _NUMBER, _SECOND_TAIL)
def test_two_quantities_side_by_side_stay_two(
    lead: str, first: str, end: str, second: str, tail: str
) -> None:
    head, rest = f"{lead}{first}{end}", f"{second}{tail}"
    out = normalize(f"{head} {rest}")
    # both numbers spelled exactly as each is alone, a pause between them, no digit left
    assert out == normalize(head) + "，" + normalize(rest)
    assert not _DIGIT.search(out)
    assert violations(out) == []


@pytest.mark.parametrize(
    "text,expected",
    [
        ("涨幅8% 2024年营收", "涨幅百分之八，二零二四年营收"),
        ("8% 100", "百分之八，一百"),
        ("3.5% 12", "百分之三点五，十二"),
        # legitimate joins stay joined (§2.1, §2.3, §2.12)
        ("上市櫃公司總獲利 1 兆 4,500 億元", "上市柜公司总获利一万四千五百亿元"),
        ("共有 2 千 5 百名考生", "共有两千五百名考生"),
        ("嫌疑人使用的号码186 2233 4455已停机", "嫌疑人使用的号码幺八六二二三三四四五五已停机"),
        ("下午 3 點 30 分開會", "下午三点三十分开会"),
        ("預計 2026 年 3 月 15 日上線", "预计二零二六年三月十五日上线"),
    ],
)
def test_adjacency_examples(text: str, expected: str) -> None:
    assert normalize(text) == expected


# --- cue lists are data a user's lexicon extends (issue 10 item 2) ------------------------------
def test_user_lexicon_adds_a_score_cue(tmp_path: Path) -> None:
    text = "主队3-1力擒对手"
    assert normalize(text) == "主队三到一力擒对手"  # 力擒 is not a project cue: read as a range
    user = tmp_path / "lexicon.toml"
    user.write_text('[cues]\nscore_after = ["力擒"]\n', encoding="utf-8")
    lexicon = load_lexicon(user)
    assert normalize(text, lexicon=lexicon) == "主队三比一力擒对手"
    assert normalize("客队 0-3 完败", lexicon=lexicon) == "客队零比三完败"  # the defaults stay
    # the Traditional spelling of a cue matches too
    assert normalize("主隊3-1力擒對手", lexicon=lexicon) == "主队三比一力擒对手"


def test_user_lexicon_adds_a_named_date_and_a_room_cue(tmp_path: Path) -> None:
    user = tmp_path / "lexicon.toml"
    user.write_text('[cues]\nnamed_date = ["会员日"]\nroom_before = ["包间"]\n', encoding="utf-8")
    lexicon = load_lexicon(user)
    assert normalize("9.9会员日", lexicon=lexicon) == "九九会员日"
    assert normalize("9.9会员日") == "九点九会员日"
    assert normalize("预订包间808", lexicon=lexicon) == "预订包间八零八"


def test_user_lexicon_keeps_zhu_in_a_word(tmp_path: Path) -> None:
    assert normalize("他的著述甚豐") == "他的著述甚丰"  # on the project list
    assert normalize("這是他的遺作與著錄") == "这是他的遗作与著录"
    user = tmp_path / "lexicon.toml"
    user.write_text('[cues]\nkeep_zhu = ["著墨"]\n', encoding="utf-8")
    assert normalize("報導著墨不多") == "报导着墨不多"
    assert normalize("報導著墨不多", lexicon=load_lexicon(user)) == "报导著墨不多"


@pytest.mark.parametrize(
    "content,problem",
    [
        ('[cues]\nscore_after = "力擒"\n', "cues.score_after must be a list"),
        ("[cues]\nscore_after = [1]\n", "cues.score_after must be a list"),
        ('[cues]\nbanana = ["x"]\n', "unknown cue list 'banana'"),
        ("cues = 3\n", "[cues] must be a table"),
    ],
)
def test_malformed_cues_are_one_line(tmp_path: Path, content: str, problem: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_lexicon(bad)
    assert problem in str(info.value) and "bad.toml" in str(info.value)
    assert "\n" not in str(info.value)


# --- 著 (issue 10 item 4) -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,expected",
    [
        ("藏著", "藏着"),
        ("預示著", "预示着"),
        ("标志著", "标志着"),
        ("著作等身", "著作等身"),
        ("著名學者", "著名学者"),
        ("效果顯著", "效果显著"),
        ("土著居民", "土著居民"),
        ("以風景著稱", "以风景著称"),
        ("成績卓著", "成绩卓著"),
        ("世界名著", "世界名著"),
        ("主編編著", "主编编著"),
        ("他著有兩本書", "他著有两本书"),
    ],
)
def test_particle_zhe(text: str, expected: str) -> None:
    assert normalize(text, "zh-CN") == expected


def test_zhu_stays_for_traditional_targets() -> None:
    assert normalize("市場預示著新一輪調整", "zh-TW") == "市場預示著新一輪調整"


# --- --vocabulary mainland (OpenCC tw2sp), off by default --------------------------------------
def test_vocabulary_is_kept_by_default() -> None:
    assert normalize("人工智慧演算法與軟體") == "人工智慧演算法与软体"


def test_mainland_vocabulary() -> None:
    assert normalize("人工智慧演算法與軟體", vocabulary="mainland") == "人工智能算法与软件"
    assert normalize("這顆晶片的 3 款軟體", vocabulary="mainland") == "这颗芯片的三款软件"


def test_mainland_vocabulary_keeps_the_lexicon_exceptions(tmp_path: Path) -> None:
    # tw2sp's table maps bare 智慧 to 智能; the project lexicon keeps 人生智慧
    assert normalize("人生智慧與人工智慧", vocabulary="mainland") == "人生智慧与人工智能"
    user = tmp_path / "lexicon.toml"
    user.write_text('[cues]\nkeep_wording = ["城市智慧"]\n', encoding="utf-8")
    assert normalize("城市智慧", vocabulary="mainland") == "城市智能"
    assert normalize("城市智慧", lexicon=load_lexicon(user), vocabulary="mainland") == "城市智慧"


def test_mainland_vocabulary_leaves_traditional_targets_alone() -> None:
    assert normalize("人工智慧", "zh-TW", vocabulary="mainland") == "人工智慧"


def test_unknown_vocabulary_is_refused() -> None:
    with pytest.raises(InputError, match="vocabulary 'banana'"):
        normalize("x", vocabulary="banana")


# --- explain (issue 10 item 5) -------------------------------------------------------------------
def test_explain_lists_each_rewrite_in_order() -> None:
    rewrites = explain("涨幅8% 2024年营收")
    assert rewrites == [
        Rewrite("adjacent_numbers", " ", "，"),
        Rewrite("percentages", "8%", "百分之8"),
        Rewrite("years", "2024", "二零二四"),
        Rewrite("cardinals", "8", "八"),
    ]


def test_explain_names_the_lexicon_and_the_script() -> None:
    rules = [r.rule for r in explain("實施996工作制", lexicon={"996工作制": "九九六工作制"})]
    assert rules == ["lexicon", "script"]


def test_explain_shows_why_a_hyphen_was_not_a_minus() -> None:
    assert explain("歼-20 首飞") == [
        Rewrite("blanks_around_numbers", " ", ""),
        Rewrite("designations", "-20", "二十"),
    ]


def test_explain_of_plain_text_is_empty() -> None:
    assert explain("今天天气很好") == []
