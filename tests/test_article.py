"""Sectioning: the sample layouts in tests/data and small synthetic ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.article import Article, Section, parse_article

DATA = Path(__file__).parent / "data"


def sample(name: str) -> Article:
    return parse_article((DATA / name).read_text(encoding="utf-8"))


def shape(article: Article) -> list[tuple[str, str | None, str]]:
    return [(s.kind, s.number, s.title) for s in article.sections]


# --------------------------------------------------------------------------- samples


def test_meta_talent_war():
    a = sample("meta-talent-war.txt")
    title = "Meta開天價“Offer”搶人,CEO親自下場,扎克伯格慌了嗎?"
    assert a.title == title
    assert shape(a) == [
        ("lead", None, title),
        ("numbered", "01", "事件核心:Meta的“天價 Offer”與 CEO 親自下場"),
        ("numbered", "02", "戰略動機:Meta 的焦慮與 “超級智能” 野心"),
        ("numbered", "03", "人才爭奪戰的殘酷真相:薪酬、文化與使命感的多重博弈"),
        ("numbered", "04", "深層矛盾:技術理想主義 vs 商業現實"),
        ("numbered", "05", "未來影響:AI 人才大戰加劇“馬太效應”"),
        ("closing", None, "總結:一場撬動未來格局的 AI 人才之戰"),
    ]
    lead, s1, s2, s3, s4, s5, closing = a.sections
    assert len(lead.paragraphs) == 2 and lead.paragraphs[0].startswith("Meta 一擲千金")
    assert [len(s.paragraphs) for s in (s1, s2, s3, s4, s5, closing)] == [4, 6, 4, 5, 4, 6]
    assert s1.paragraphs[0].startswith("CEO 扎克伯格親自出馬")
    assert closing.paragraphs[-1].startswith("你會選理想主義")
    # no heading text leaks into bodies, every paragraph is stripped and non-empty
    for s in a.sections:
        for p in s.paragraphs:
            assert p and p == p.strip()
            assert not p.startswith(("01 ", "02 ", "總結:"))


def test_ev_market_list_stays_in_section_two():
    a = sample("ev-market-simplified.txt")
    assert a.title == "新能源汽车11月销量创新高 渗透率首次突破55%"
    assert shape(a) == [
        ("lead", None, a.title),
        ("numbered", "一", "整体市场"),
        ("numbered", "二", "出口表现"),
        ("numbered", "三", "价格走势"),
        ("numbered", "四", "后市展望"),
    ]
    two = a.sections[2]
    assert two.paragraphs[1:] == (
        "1. 欧洲，占出口总量的约38%；",
        "2. 东南亚，占比约21%；",
        "3. 中东和拉美，合计占比约19%。",
    )
    assert a.sections[0].paragraphs[0].startswith("中国汽车工业协会")


def test_typhoon_has_no_lead_and_a_closing():
    a = sample("typhoon-traditional.txt")
    assert a.title == "颱風「海燕」逼近 氣象署發布海上陸上警報"
    assert shape(a) == [
        ("numbered", "（一）", "颱風動態"),
        ("numbered", "（二）", "風雨預估"),
        ("numbered", "（三）", "交通與停班停課"),
        ("numbered", "（四）", "經濟影響"),
        ("closing", None, "結語"),
    ]
    assert all(s.paragraphs for s in a.sections)
    assert a.sections[-1].paragraphs[0].startswith("氣象署提醒民眾")


def test_chip_report_markdown():
    a = sample("chip-report-markdown.md")
    assert a.title == "全球芯片产业观察：先进制程竞赛进入2纳米时代"
    assert shape(a) == [
        ("lead", None, a.title),
        ("numbered", "1", "制程进展"),
        ("numbered", "2", "设备与材料"),
        ("numbered", "3", "需求结构"),
        ("numbered", "4", "结论"),
    ]
    assert a.sections[0].paragraphs[0].startswith("芯片产业正在经历")
    assert not any(p.startswith("#") for s in a.sections for p in s.paragraphs)


def test_samples_with_crlf_line_endings_are_identical():
    for name in (
        "meta-talent-war.txt",
        "ev-market-simplified.txt",
        "typhoon-traditional.txt",
        "chip-report-markdown.md",
    ):
        text = (DATA / name).read_text(encoding="utf-8")
        assert parse_article(text.replace("\n", "\r\n")) == parse_article(text)
        assert parse_article(text.replace("\n", "\r")) == parse_article(text)


# --------------------------------------------------------------------------- heading styles

BODY = "这是正文的第一句话，内容比较长，用来模拟真实文章。"


@pytest.mark.parametrize(
    "lines, numbers, titles",
    [
        (["01 背景", "02 现状", "03 展望"], ["01", "02", "03"], ["背景", "现状", "展望"]),
        (["01｜背景", "02｜现状"], ["01", "02"], ["背景", "现状"]),
        (["1. 背景", "2. 现状", "3. 展望"], ["1", "2", "3"], ["背景", "现状", "展望"]),
        (["1、背景", "2、现状"], ["1", "2"], ["背景", "现状"]),
        (["一、背景", "二、现状", "三、展望"], ["一", "二", "三"], ["背景", "现状", "展望"]),
        (["（一）背景", "（二）现状"], ["（一）", "（二）"], ["背景", "现状"]),
        (["(一) 背景", "(二) 现状"], ["(一)", "(二)"], ["背景", "现状"]),
        (["第一章 背景", "第二章 现状"], ["第一章", "第二章"], ["背景", "现状"]),
        (["第一节：背景", "第二节：现状"], ["第一节", "第二节"], ["背景", "现状"]),
        (["第一部分 背景", "第二部分 现状"], ["第一部分", "第二部分"], ["背景", "现状"]),
        (["第1章 背景", "第2章 现状"], ["第1章", "第2章"], ["背景", "现状"]),
        (["十、背景", "十一、现状"], None, None),  # does not start at 1: not headings
        (["九、背景", "十、现状", "十一、展望"], None, None),
    ],
)
def test_heading_styles(lines, numbers, titles):
    parts = ["文章标题", "导语一句。"]
    for line in lines:
        parts += [line, BODY]
    a = parse_article("\n\n".join(parts))
    assert a.title == "文章标题"
    if numbers is None:
        assert shape(a) == [("lead", None, "文章标题")]
        return
    assert shape(a) == [("lead", None, "文章标题")] + [
        ("numbered", n, t) for n, t in zip(numbers, titles)
    ]
    assert all(s.paragraphs == (BODY,) for s in a.sections[1:])


def test_ten_plus_chinese_numbers():
    names = "一二三四五六七八九十"
    parts = ["标题"]
    for i, n in enumerate(list(names) + ["十一", "十二"]):
        parts += [f"{n}、小节{i}", BODY]
    a = parse_article("\n".join(parts))
    assert [s.number for s in a.sections] == list(names) + ["十一", "十二"]


def test_single_newline_article():
    text = "标题\n导语内容。\n一、第一部分\n正文一。\n二、第二部分\n正文二。\n结语\n最后的话。"
    a = parse_article(text)
    assert shape(a) == [
        ("lead", None, "标题"),
        ("numbered", "一", "第一部分"),
        ("numbered", "二", "第二部分"),
        ("closing", None, "结语"),
    ]
    assert a.sections[-1].paragraphs == ("最后的话。",)


@pytest.mark.parametrize(
    "line, title",
    [
        ("結語：", "結語"),
        ("结语", "结语"),
        ("结论：", "结论"),
        ("總結:一場撬動未來格局的 AI 人才之戰", "總結:一場撬動未來格局的 AI 人才之戰"),
        ("写在最后", "写在最后"),
        ("总结与展望", "总结与展望"),
    ],
)
def test_closing_lines(line, title):
    a = parse_article(f"标题\n\n一、开始\n\n{BODY}\n\n二、继续\n\n{BODY}\n\n{line}\n\n收尾的话。")
    assert a.sections[-1] == Section(title, ("收尾的话。",), None, "closing")


def test_closing_sentence_is_not_a_heading():
    a = parse_article(
        f"标题\n\n一、开始\n\n{BODY}\n\n二、继续\n\n总结一下，这件事很重要。\n\n结论是市场会继续增长。"
    )
    assert [s.kind for s in a.sections] == ["numbered", "numbered"]
    assert a.sections[-1].paragraphs == ("总结一下，这件事很重要。", "结论是市场会继续增长。")


# --------------------------------------------------------------------------- not headings


def test_year_title_is_not_a_numbered_heading():
    a = parse_article(
        "2026年全球新能源汽车市场报告\n\n导语。\n\n一、概况\n\n正文。\n\n二、趋势\n\n正文。"
    )
    assert a.title == "2026年全球新能源汽车市场报告"
    assert shape(a)[0] == ("lead", None, "2026年全球新能源汽车市场报告")
    assert [s.number for s in a.sections] == [None, "一", "二"]


def test_year_with_space_title():
    a = parse_article("2026 全球芯片报告\n\n正文第一段。\n\n正文第二段。")
    assert a.title == "2026 全球芯片报告"
    assert shape(a) == [("lead", None, "2026 全球芯片报告")]


def test_numbered_list_after_colon_is_body():
    text = "标题\n\n导语。\n\n主要市场包括：\n1. 欧洲\n2. 东南亚\n3. 中东\n\n后续说明。"
    a = parse_article(text)
    assert shape(a) == [("lead", None, "标题")]
    assert a.sections[0].paragraphs == (
        "导语。",
        "主要市场包括：",
        "1. 欧洲",
        "2. 东南亚",
        "3. 中东",
        "后续说明。",
    )


def test_run_of_short_numbered_lines_is_a_list():
    text = "标题\n\n导语。\n\n1. 欧洲市场\n2. 东南亚市场\n3. 中东市场\n\n后续说明。"
    a = parse_article(text)
    assert len(a.sections) == 1
    assert "2. 东南亚市场" in a.sections[0].paragraphs


def test_list_with_semicolons_inside_sections():
    text = (
        "标题\n\n一、市场\n\n市场情况如下\n1. 欧洲，占比38%；\n2. 东南亚，占比21%；\n\n"
        "二、价格\n\n1. 价格下降；\n\n2. 销量上升。"
    )
    a = parse_article(text)
    assert shape(a) == [("numbered", "一", "市场"), ("numbered", "二", "价格")]
    assert a.sections[1].paragraphs == ("1. 价格下降；", "2. 销量上升。")


def test_long_numbered_lines_are_body():
    long = "这是一段非常长的文字" * 8
    a = parse_article(f"标题\n\n1. {long}\n\n2. {long}")
    assert len(a.sections) == 1 and len(a.sections[0].paragraphs) == 2


def test_sub_level_numbering_stays_in_the_chapter():
    text = (
        "标题\n\n第一章 总论\n\n（一）背景\n\n背景正文。\n\n（二）意义\n\n意义正文。\n\n"
        "第二章 分析\n\n（一）数据\n\n数据正文。"
    )
    a = parse_article(text)
    assert shape(a) == [("numbered", "第一章", "总论"), ("numbered", "第二章", "分析")]
    assert a.sections[0].paragraphs == ("（一）背景", "背景正文。", "（二）意义", "意义正文。")


def test_decimal_and_date_lines_are_not_headings():
    a = parse_article("标题\n\n3.5亿元的投资\n\n12月10日发布\n\n1—11月数据")
    assert len(a.sections) == 1 and len(a.sections[0].paragraphs) == 3


def test_no_headings_is_one_chapter():
    a = parse_article("一篇文章\n\n第一段。\n第二段。\n\n第三段。")
    assert a == Article(
        "一篇文章", (Section("一篇文章", ("第一段。", "第二段。", "第三段。"), None, "lead"),)
    )


def test_title_only():
    a = parse_article("只有标题\n")
    assert a.title == "只有标题"
    assert a.sections == (Section("只有标题", ("只有标题",), None, "lead"),)


def test_empty_text():
    assert parse_article("") == Article("", ())
    assert parse_article(" \n\n \n", title="T") == Article("T", ())


def test_first_line_that_is_a_paragraph_stays_in_the_lead():
    text = "今天我们来聊一聊新能源汽车市场的变化，这个话题最近非常热门。\n\n第二段内容。"
    a = parse_article(text)
    assert a.title == "今天我们来聊一聊新能源汽车市场的变化"
    assert a.sections[0].paragraphs[0].startswith("今天我们来聊一聊")
    assert len(a.sections[0].paragraphs) == 2


def test_first_line_is_a_heading():
    a = parse_article("一、开始\n\n正文一。\n\n二、继续\n\n正文二。")
    assert a.title == "开始"
    assert shape(a) == [("numbered", "一", "开始"), ("numbered", "二", "继续")]


def test_empty_section_keeps_its_heading_but_no_empty_lead():
    a = parse_article("标题\n\n第一章 起\n\n正文。\n\n第二章 承\n\n结语")
    assert shape(a) == [
        ("numbered", "第一章", "起"),
        ("numbered", "第二章", "承"),
        ("closing", None, "结语"),
    ]
    assert a.sections[1].paragraphs == () and a.sections[2].paragraphs == ()
    assert all(s.kind != "lead" for s in a.sections)


def test_heading_without_text_is_titled_with_its_number():
    a = parse_article("标题\n\n第一章\n\n正文。\n\n第二章\n\n正文。")
    assert shape(a) == [("numbered", "第一章", "第一章"), ("numbered", "第二章", "第二章")]


def test_question_headings():
    a = parse_article("标题\n\n01 为什么是现在？\n\n正文。\n\n02 接下来怎么办？\n\n正文。")
    assert [s.title for s in a.sections] == ["为什么是现在？", "接下来怎么办？"]


def test_stray_list_in_lead_does_not_steal_the_chapters():
    text = "标题\n\n导语。\n\n1. 第一点\n\n一、概况\n\n正文。\n\n二、趋势\n\n正文。"
    a = parse_article(text)
    assert shape(a) == [
        ("lead", None, "标题"),
        ("numbered", "一", "概况"),
        ("numbered", "二", "趋势"),
    ]
    assert a.sections[0].paragraphs == ("导语。", "1. 第一点")


# --------------------------------------------------------------------------- --title


def test_explicit_title_replaces_a_title_line():
    a = parse_article(
        (DATA / "meta-talent-war.txt").read_text(encoding="utf-8"), title="Meta 人才战"
    )
    assert a.title == "Meta 人才战"
    assert a.sections[0].title == "Meta 人才战"
    assert a.sections[0].paragraphs[0].startswith("Meta 一擲千金")
    assert len(a.sections) == 7


def test_explicit_title_keeps_a_paragraph_first_line():
    text = "今天我们来聊一聊新能源汽车市场的变化，这个话题最近非常热门。\n\n第二段内容。"
    a = parse_article(text, title="聊汽车")
    assert a.title == "聊汽车"
    assert a.sections[0].paragraphs == (
        "今天我们来聊一聊新能源汽车市场的变化，这个话题最近非常热门。",
        "第二段内容。",
    )


def test_explicit_title_with_markdown_and_typhoon():
    a = parse_article((DATA / "chip-report-markdown.md").read_text(encoding="utf-8"), title="芯片")
    assert a.title == "芯片" and a.sections[0].title == "芯片" and len(a.sections) == 5
    t = parse_article((DATA / "typhoon-traditional.txt").read_text(encoding="utf-8"), title="颱風")
    assert t.title == "颱風" and [s.kind for s in t.sections] == ["numbered"] * 4 + ["closing"]


def test_blank_explicit_title_is_ignored():
    assert parse_article("标题\n\n正文。", title="  ").title == "标题"


# --------------------------------------------------------------------------- markdown


def test_markdown_h3_stays_inside_h2_chapters():
    text = "# 标题\n\n导语。\n\n## 背景\n\n正文。\n\n### 细节\n\n细节正文。\n\n## 展望\n\n正文。"
    a = parse_article(text)
    assert shape(a) == [
        ("lead", None, "标题"),
        ("heading", None, "背景"),
        ("heading", None, "展望"),
    ]
    assert a.sections[1].paragraphs == ("正文。", "细节", "细节正文。")


def test_markdown_only_h3_headings():
    a = parse_article("# 标题\n\n### 一、甲\n\n正文。\n\n### 二、乙\n\n正文。")
    assert shape(a) == [("numbered", "一", "甲"), ("numbered", "二", "乙")]


def test_markdown_h2_without_h1_title_line():
    a = parse_article("标题\n\n## 第一部分 起源\n\n正文。\n\n## 结语\n\n再见。")
    assert a.title == "标题"
    assert shape(a) == [("numbered", "第一部分", "起源"), ("closing", None, "结语")]


def test_markdown_first_line_is_a_chapter():
    a = parse_article("## 背景\n\n正文。\n\n## 展望\n\n正文。")
    assert a.title == "背景"
    assert shape(a) == [("heading", None, "背景"), ("heading", None, "展望")]


def test_markdown_inline_cleanup():
    text = (
        "# **标题**\n\n"
        "这是**加粗**和*强调*以及[链接](https://example.com)还有`代码`。\n\n"
        "![图片](a.png)\n\n"
        "- 列表项一\n* 列表项二\n\n"
        "> 引用的话\n\n"
        "```\ncode block\n```\n\n"
        "---\n\n"
        "| 列 | 值 |\n|---|---|\n| a | 1 |\n\n"
        "结束。"
    )
    a = parse_article(text)
    assert a.title == "标题"
    assert a.sections[0].paragraphs == (
        "这是加粗和强调以及链接还有代码。",
        "列表项一",
        "列表项二",
        "引用的话",
        "列  值",
        "a  1",
        "结束。",
    )


def test_markdown_lone_digit_heading_is_not_numbered():
    a = parse_article("# 标题\n\n## 3 个趋势\n\n正文。\n\n## 展望\n\n正文。")
    assert shape(a) == [("heading", None, "3 个趋势"), ("heading", None, "展望")]


def test_setext_title():
    a = parse_article("标题\n===\n\n## 一\n\n正文。\n\n## 二\n\n正文。")
    assert a.title == "标题"
    assert [s.title for s in a.sections] == ["一", "二"]


def test_bold_plain_headings():
    a = parse_article("标题\n\n**一、背景**\n\n正文。\n\n**二、展望**\n\n正文。")
    assert shape(a) == [("numbered", "一", "背景"), ("numbered", "二", "展望")]


def test_html_page_text_from_reading_is_sectioned():
    from digest.html_text import html_to_text

    html = (
        "<!doctype html><html><head><title>网页标题 - 站点</title><style>p{}</style></head><body>"
        "<nav>首页 | 关于</nav><article><h1>文章标题</h1><p>导语。</p>"
        "<h2>一、背景</h2><p>背景正文。</p><h2>二、展望</h2><p>展望正文<br>第二行。</p></article>"
        "<footer>版权所有</footer></body></html>"
    )
    a = parse_article(html_to_text(html))
    assert a.title == "文章标题"
    assert shape(a) == [
        ("lead", None, "文章标题"),
        ("numbered", "一", "背景"),
        ("numbered", "二", "展望"),
    ]
    assert a.sections[2].paragraphs == ("展望正文", "第二行。")


# --------------------------------------------------------------------------- properties

_line = st.text(
    alphabet=st.sampled_from(
        list("的一是了人有我中来上大为和国到说时要就出会也你对生能子那得于着下自之年过发后作里用")
        + list("，。、：；1234567890.（）() \t#*-")
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_line, max_size=25),
    st.sampled_from(["\n", "\n\n", "\r\n"]),
    st.one_of(st.none(), st.just("T")),
)
def test_invariants(lines, sep, title):
    a = parse_article(sep.join(lines), title=title)
    assert isinstance(a.title, str)
    for i, s in enumerate(a.sections):
        assert s.kind in ("lead", "numbered", "closing", "heading")
        assert s.title
        assert all(p and p == p.strip() and "\n" not in p for p in s.paragraphs)
        if s.kind == "lead":
            assert i == 0 and s.paragraphs and s.number is None and s.title == a.title
        if s.kind == "numbered":
            assert s.number
        else:
            assert s.number is None
