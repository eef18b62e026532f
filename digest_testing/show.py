"""A published show of three episodes with hostile titles, built with the offline engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from digest.pipeline import BuildOptions, build_episode
from digest.publish import publish_episode
from digest.show import init_show

BASE_URL = "https://podcasts.example.com/morning"

ARTICLE = """\
城市早间简报

今天上午 8:30，市气象台发布通知：气温 25℃，降雨概率 60%。详情见 https://example.com/a?b=1&c=2 。

一、交通
地铁 3 号线 2035 年前后延伸到机场。新线路全长 12.5 公里！

二、社区
社区图书馆周六开放；借书上限 10 本。

三、天气
明天多云，最高 28℃。
"""

# Titles that break naive XML and HTML writers: markup, ampersands, quotes,
# emoji, right-to-left scripts, a CDATA terminator and a control character.
HOSTILE_TITLES = (
    "<script>alert(\"x\")</script> & '早报' 🎧",
    'עברית RTL مرحبا & 中文 "引号" ‏',
    "A&B <b>粗体</b> ]]> \x07铃 ☕",
)
DATES = (dt.date(2026, 11, 27), dt.date(2026, 11, 28), dt.date(2026, 11, 28))

SHOW_TOML = f"""\
[show]
name = "测试 & <早间> \\"简报\\" 🎧"
description = "每天早上的城市新闻 & 天气"
author = "digest 测试"

[feed]
email = "owner@example.com"
base_url = "{BASE_URL}"
"""


def build_show(root: Path) -> tuple[Path, list[Path]]:
    """Build three episodes into root/out and publish them into root/show, oldest first.

    Returns the show folder and the built MP3s in publishing order.
    """
    article = root / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    show_dir = root / "show"
    init_show(show_dir)
    (show_dir / "show.toml").write_text(SHOW_TOML, encoding="utf-8")
    built = []
    for number, (title, date) in enumerate(zip(HOSTILE_TITLES, DATES)):
        options = BuildOptions(
            engine="offline",
            title=title,
            date=date,
            output_dir=root / "out",
            cache_dir=root / "cache",
        )
        result = build_episode(article, options)
        moment = dt.datetime(2026, 11, 29, 1, number, tzinfo=dt.timezone.utc)
        publish_episode(result.files.mp3, show_dir, now=moment)
        built.append(result.files.mp3)
    return show_dir, built
