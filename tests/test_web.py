"""Web pages: saved pages of the kinds Chinese news sites publish, served on 127.0.0.1.

Each page must give its headline, its story and its sub-heads as sections, and
none of the navigation, related cards, comments, paywall prompts, share bars,
counters, editor lines or footers around it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from digest.article import parse_article
from digest.errors import SourceError
from digest.pipeline import BuildOptions, prepare_script
from digest.web import FetchOptions, canonical_url, extract_page, read_page, strip_site_suffix
from digest_testing.web import PageServer, Route

PAGES = Path(__file__).parent / "pages"

# (file, Content-Type header, headline, sections, must contain, must not contain)
CASES = [
    (
        "mainland-portal.html",
        "text/html; charset=utf-8",
        "我市地铁三号线二期工程今日开通运营",
        ["首班车六点发车", "票价沿用现行标准"],
        ["二期线路全长18.6公里", "开通首月"],
        [
            "首页",
            "登录",
            "热点新闻",
            "责任编辑",
            "延伸阅读",
            "分享到",
            "点赞",
            "版权所有",
            "ICP",
            "_hmt",
            "东方新闻网",
        ],
    ),
    (
        "taiwan-traditional.html",
        "text/html",
        "台北捷運環狀線北環段動工 預計二〇三二年通車",
        ["工程分三階段進行", "沿線居民關注噪音問題"],
        ["全長約十五公里", "噪音監測站"],
        ["相關新聞", "萬大線", "輕軌票價", "客服專線", "複製連結", "自由快報"],
    ),
    (
        "div-beside-related-cards.html",
        "text/html; charset=utf-8",
        "国家统计局：十一月制造业采购经理指数回升至荣枯线以上",
        ["新订单指数明显改善", "非制造业保持扩张"],
        ["50.3%", "服务业商务活动指数为50.1%"],
        ["工业增加值", "固定资产投资", "相关阅读", "财经频道", "股票", "举报电话"],
    ),
    (
        "gbk-portal.html",
        "text/html",  # no charset in the header: the page's <meta> says gbk
        "本市今冬首场降雪预计周三到来",
        ["供暖部门提前做好准备"],
        ["零下八摄氏度", "供热服务热线"],
        ["编辑：赵强", "来源：北方晚报", "娱乐", "版权所有"],
    ),
    (
        "big5-hongkong.html",
        "text/html; charset=utf-8",  # a header that lies: the bytes are Big5
        "港府公布新一輪樓宇維修資助計劃",
        ["申請明年一月開始"],
        ["最多可獲六萬元資助", "約為三個月"],
        ["主頁", "查詢電話", "星期一", "香港日報"],
    ),
    (
        "paywall-stub.html",
        "text/html; charset=utf-8",
        "独家：某科技巨头拟在华东新建数据中心",
        [],
        ["总投资额可能超过百亿元"],
        ["会员专享", "订阅", "登录", "版权所有"],
    ),
    (
        "with-comments.html",
        "text/html; charset=utf-8",
        "全国首个城市级自动驾驶公交网络在雄安投入运营",
        ["票价与普通公交一致"],
        ["六条线路", "预计到站时间"],
        ["网友", "评论", "太方便了", "赞", "提交"],
    ),
    (
        "live-blog.html",
        "text/html; charset=utf-8",
        "直播：第十五届全国运动会闭幕式",
        [],
        ["会旗已交接完毕", "运动员代表团入场", "本网全程图文直播"],
        ["自动刷新", "暂停", "版权所有"],
    ),
]


@pytest.fixture(scope="module")
def server():
    routes = {
        f"/{name}": Route((PAGES / name).read_bytes(), content_type=ctype)
        for name, ctype, *_ in CASES
    }
    routes["/moved"] = Route(status=301, headers={"Location": "/taiwan-traditional.html"})
    with PageServer(routes, slow_seconds=5.0) as running:
        yield running


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_saved_page_gives_the_story_and_nothing_else(server, case):
    name, _, headline, sections, wanted, unwanted = case
    page = read_page(server.url(f"/{name}"))
    assert page.title == headline
    article = parse_article(page.text)
    assert article.title == headline
    assert [s.title for s in article.sections if s.kind != "lead"] == sections
    spoken = "\n".join(p for s in article.sections for p in (s.title, *s.paragraphs))
    for phrase in wanted:
        assert phrase in spoken, phrase
    for phrase in unwanted:
        assert phrase not in spoken, phrase
    # every paragraph once: a live blog's entries are not repeated
    paragraphs = [p for s in article.sections for p in s.paragraphs]
    assert len(paragraphs) == len(set(paragraphs))


def test_page_names_its_site_and_canonical_url(server):
    page = read_page(server.url("/mainland-portal.html"))
    assert page.site == "东方新闻网"
    assert page.url == "https://news.example.cn/2026/11/30/metro-line-3.html"
    big5 = read_page(server.url("/big5-hongkong.html"))
    assert big5.site == "香港日報"  # from the <title> suffix, the page has no og:site_name
    assert big5.url == server.url("/big5-hongkong.html")


def test_redirect_is_followed(server):
    page = read_page(server.url("/moved"))
    assert page.title == "台北捷運環狀線北環段動工 預計二〇三二年通車"


@pytest.mark.parametrize(
    "path, message",
    [
        ("/missing", "HTTP 404"),
        ("/loop", "more than 5 redirects"),
        ("/data.json", "not a web page (application/json)"),
        ("/slow", "timed out"),
    ],
)
def test_failures_are_one_line_naming_the_url(server, path, message):
    options = FetchOptions(read_timeout=0.5, connect_timeout=0.5)
    with pytest.raises(SourceError) as caught:
        read_page(server.url(path), options)
    text = str(caught.value)
    assert text.startswith(server.url(path)) and message in text and "\n" not in text


def test_a_50_mb_page_is_refused_without_reading_it_all(server):
    started = time.perf_counter()
    with pytest.raises(SourceError, match="larger than the limit of 5,000,000 bytes"):
        read_page(server.url("/huge"))
    assert time.perf_counter() - started < 5
    assert server.bytes_sent["/huge"] < 20 * 1024 * 1024
    with pytest.raises(SourceError, match="52,428,800 bytes, more than the limit"):
        read_page(server.url("/huge-declared"))


def test_build_and_script_take_a_url(server):
    prepared = prepare_script(server.url("/with-comments.html"), BuildOptions())
    assert prepared.script.title == "全国首个城市级自动驾驶公交网络在雄安投入运营"
    assert [c.title for c in prepared.script.chapters][1:] == ["票价与普通公交一致"]


def test_story_sentences_that_mention_logins_or_editors_are_kept():
    html = (
        "<html><head><title>社保卡线上申领 - 某报</title></head><body><article><h1>社保卡线上申领</h1>"
        "<p>即日起，市民请登录市政务服务网，在社保专区填写信息后即可申领新版社保卡，全程无需到现场。</p>"
        "<p>编辑：王强</p><p>本文为会员专享内容，订阅后即可阅读全文。</p></article></body></html>"
    )
    text = extract_page(html, "http://127.0.0.1/a").text
    assert "市民请登录市政务服务网" in text
    assert "编辑：王强" not in text and "会员专享" not in text


def test_a_headline_inside_an_article_header_is_kept():
    html = (
        "<html><head><title>无关标题 - 某报</title></head><body><nav>首页 国内</nav>"
        '<article><header class="article-header"><h1>新版社保卡今起线上申领</h1></header>'
        "<p>即日起，市民可在政务服务网申领新版社保卡，全程无需到现场办理，十个工作日内寄送到家。</p>"
        "</article></body></html>"
    )
    page = extract_page(html, "http://127.0.0.1/a")
    assert page.title == "新版社保卡今起线上申领"
    assert "首页" not in page.text and "十个工作日内寄送到家" in page.text


def test_site_suffix_and_canonical_url():
    assert strip_site_suffix("我市地铁开通_新闻中心_东方新闻网") == "我市地铁开通"
    assert strip_site_suffix("港府公布新計劃 | 香港日報") == "港府公布新計劃"
    assert strip_site_suffix("GPT-5 发布") == "GPT-5 发布"
    assert canonical_url("HTTPS://Example.COM/a/b/#top") == "https://example.com/a/b"
    assert canonical_url("https://example.com/新闻/1") == "https://example.com/%E6%96%B0%E9%97%BB/1"
