"""Reading: encodings, stdin, HTML pages, and every kind of bad input."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from digest.errors import DigestError
from digest.html_text import html_to_text
from digest.reading import decode_bytes, read_text

DATA = Path(__file__).parent / "data"
SIMPLIFIED = (DATA / "ev-market-simplified.txt").read_text(encoding="utf-8")
TRADITIONAL = (DATA / "typhoon-traditional.txt").read_text(encoding="utf-8")
META = (DATA / "meta-talent-war.txt").read_text(encoding="utf-8")

SHORT_SIMPLIFIED = "新能源汽车销量创新高\n中国汽车工业协会发布数据。市场表现良好。"
SHORT_TRADITIONAL = "颱風逼近 氣象署發布警報\n中央氣象署表示，颱風今天上午逼近。民眾注意安全。"
TINY = ["你好，世界。", "我爱北京天安门", "中国", "臺灣的天氣很好。", "說話", "銷量創新高"]


def write(tmp_path: Path, data: bytes, name: str = "article.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_error(exc: pytest.ExceptionInfo, path: Path | str, *words: str) -> None:
    message = str(exc.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    "text", [SIMPLIFIED, TRADITIONAL, META, SHORT_SIMPLIFIED, SHORT_TRADITIONAL]
)
@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: t.encode("utf-8"), id="utf-8"),
        pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), id="utf-8-bom"),
        pytest.param(lambda t: b"\xff\xfe" + t.encode("utf-16-le"), id="utf-16-le-bom"),
        pytest.param(lambda t: b"\xfe\xff" + t.encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(lambda t: t.encode("utf-16"), id="utf-16-native"),
    ],
)
def test_unicode_encodings(tmp_path, text, encode):
    assert read_text(write(tmp_path, encode(text))) == text


@pytest.mark.parametrize("text", [SIMPLIFIED, SHORT_SIMPLIFIED, *TINY[:3]])
@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "gb2312"])
def test_simplified_legacy_encodings(tmp_path, text, encoding):
    text = text.replace("—", "-")  # not in GB2312
    assert read_text(write(tmp_path, text.encode(encoding))) == text


def test_gb18030_only_characters(tmp_path):
    text = "标题\n这里有一个罕见字㐀和欧元符号€，以及表情😀。"
    assert read_text(write(tmp_path, text.encode("gb18030"))) == text


@pytest.mark.parametrize("text", [TRADITIONAL, SHORT_TRADITIONAL, *TINY[3:]])
def test_big5(tmp_path, text):
    assert read_text(write(tmp_path, text.encode("big5"))) == text


def test_traditional_in_gbk(tmp_path):
    # GBK can hold traditional characters too; the sample must not come back as Big5 mojibake.
    assert read_text(write(tmp_path, TRADITIONAL.encode("gbk"))) == TRADITIONAL


def test_meta_sample_in_gb18030_and_big5(tmp_path):
    assert read_text(write(tmp_path, META.encode("gb18030"))) == META
    data = META.replace("–", "-").encode("big5", errors="strict")
    assert read_text(write(tmp_path, data, "m.txt")) == META.replace("–", "-")


def test_bomless_utf16(tmp_path):
    text = "标题 Title\n第一段 text 123。\n"
    assert read_text(write(tmp_path, text.encode("utf-16-le"))) == text
    assert read_text(write(tmp_path, text.encode("utf-16-be"), "b.txt")) == text


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_newlines_are_normalized(tmp_path, newline):
    data = SIMPLIFIED.replace("\n", newline).encode("gb18030")
    assert read_text(write(tmp_path, data)) == SIMPLIFIED


def test_accepts_str_and_path(tmp_path):
    path = write(tmp_path, SHORT_SIMPLIFIED.encode("utf-8"))
    assert read_text(str(path)) == read_text(path) == SHORT_SIMPLIFIED


def test_decode_bytes_direct():
    assert decode_bytes("你好，世界。".encode("gbk")) == "你好，世界。"
    assert decode_bytes("臺灣的天氣很好。".encode("big5")) == "臺灣的天氣很好。"


# --------------------------------------------------------------------------- stdin


class _Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def test_stdin_utf8(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(SIMPLIFIED.encode("utf-8")))
    assert read_text("-") == SIMPLIFIED


def test_stdin_big5(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(SHORT_TRADITIONAL.encode("big5")))
    assert read_text("-") == SHORT_TRADITIONAL


def test_stdin_text_stream_without_buffer(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("标题\r\n正文。"))
    assert read_text("-") == "标题\n正文。"


def test_stdin_empty(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(b""))
    with pytest.raises(DigestError) as exc:
        read_text("-")
    assert_error(exc, "stdin", "empty")


def test_dash_path_object_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_bytes("文件内容".encode())
    assert read_text(Path("-")) == "文件内容"


# --------------------------------------------------------------------------- HTML


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>颱風新聞 - 新聞網</title>
<script>var x = "<p>不要</p>";</script><style>body { color: red }</style></head>
<body><header><a href="/">首頁</a></header><nav><ul><li>國際</li><li>財經</li></ul></nav>
<main><h1>颱風「海燕」逼近</h1>
<p>中央氣象署表示，颱風今天&nbsp;逼近。</p>
<h2>（一）颱風動態</h2><p>第一段<b>加粗</b>文字。</p><ul><li>要點一</li><li>要點二</li></ul>
<h2>（二）風雨預估</h2><div>雨量可達500毫米。<br>請注意安全。</div>
<aside>相關新聞</aside></main>
<footer>版權所有</footer></body></html>
"""


def test_html_file(tmp_path):
    text = read_text(write(tmp_path, PAGE.encode("utf-8"), "page.html"))
    lines = [line for line in text.splitlines() if line]
    assert lines == [
        "# 颱風「海燕」逼近",
        "中央氣象署表示，颱風今天 逼近。",
        "## （一）颱風動態",
        "第一段加粗文字。",
        "要點一",
        "要點二",
        "## （二）風雨預估",
        "雨量可達500毫米。",
        "請注意安全。",
    ]


def test_html_detected_by_content_and_big5(tmp_path):
    text = read_text(write(tmp_path, PAGE.replace("&nbsp;", "").encode("big5"), "page.txt"))
    assert text.startswith("# 颱風「海燕」逼近")
    assert "首頁" not in text and "版權所有" not in text and "不要" not in text


def test_html_title_from_title_tag_without_h1():
    text = html_to_text("<html><head><title>标题</title></head><body><p>正文。</p></body></html>")
    assert text.splitlines()[0] == "# 标题"
    assert "正文。" in text


def test_html_without_main_uses_body():
    text = html_to_text("<html><body><h1>T</h1><div>一</div><div>二</div></body></html>")
    assert [line for line in text.splitlines() if line] == ["# T", "一", "二"]


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "does not exist")


def test_directory(tmp_path):
    with pytest.raises(DigestError) as exc:
        read_text(tmp_path)
    assert_error(exc, tmp_path, "directory")


def test_empty_file(tmp_path):
    path = write(tmp_path, b"")
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "empty")


@pytest.mark.parametrize("content", ["   \n\n\t  \r\n", "\u3000\u3000\n", "\ufeff"])
def test_whitespace_only(tmp_path, content):
    path = write(tmp_path, content.encode("utf-8"))
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "empty")


@pytest.mark.parametrize("content", ["。。。，，！\n……", "--- *** ---\n!!!", "12345 678"])
def test_punctuation_only(tmp_path, content):
    path = write(tmp_path, content.encode("utf-8"))
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "no words")


def test_binary_with_nul_bytes(tmp_path):
    path = write(
        tmp_path,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)),
        "image.png",
    )
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "binary")


def test_short_binary_with_nul_is_not_utf16(tmp_path):
    path = write(tmp_path, b"\x00\x01\x02PNG", "x.png")
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "binary")


def test_undecodable_short(tmp_path):
    path = write(tmp_path, b"abc \x81\x30\x81\xfe\xfe\xfe\xa0\xfe\xfe\xfe\xa0")
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "encoding")


def test_binary_without_nul_bytes(tmp_path):
    data = bytes(b for b in range(1, 32) if b not in (9, 10, 13)) * 40
    path = write(tmp_path, data, "blob.bin")
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "binary")


def test_undecodable(tmp_path):
    # Not UTF-8, not GB18030, not Big5 -- and not text in any guessed encoding either.
    data = b"\xff\xfe"[::-1] + b"\x81\x30\x81" * 3 + b"\xfe\xfe\xfe\xa0" * 50
    path = write(tmp_path, b"abc " + data[2:])
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path)


def test_invalid_after_bom(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + "标题".encode("utf-8") + b"\xff\xfe\xfd")
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "UTF-8")


def test_too_long(tmp_path):
    path = write(tmp_path, ("文" * 2_345_678).encode("utf-8"))
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "2,345,678 characters", "the limit is 2,000,000")


def test_max_chars_can_be_raised_and_lowered(tmp_path):
    path = write(tmp_path, ("字" * 100).encode("utf-8"))
    assert len(read_text(path, max_chars=100)) == 100
    with pytest.raises(DigestError) as exc:
        read_text(path, max_chars=99)
    assert_error(exc, path, "100 characters; the limit is 99")


def test_far_too_big_is_rejected_without_decoding(tmp_path):
    path = write(tmp_path, b"a" * 5000)
    with pytest.raises(DigestError) as exc:
        read_text(path, max_chars=1000)
    assert_error(exc, path, "limit of 1,000 characters")
    assert exc.value.setting == "max_chars"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_unreadable(tmp_path):
    path = write(tmp_path, "标题".encode("utf-8"))
    path.chmod(0)
    try:
        with pytest.raises(DigestError) as exc:
            read_text(path)
        assert_error(exc, path, "permission")
    finally:
        path.chmod(0o644)


def test_unreadable_simulated(tmp_path, monkeypatch):
    path = write(tmp_path, "标题".encode("utf-8"))

    def deny(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr("digest.reading.open", deny, raising=False)
    with pytest.raises(DigestError) as exc:
        read_text(path)
    assert_error(exc, path, "permission")
