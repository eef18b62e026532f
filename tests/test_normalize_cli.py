"""`digest normalize` as a user runs it, and the text a user hands the CLI: encodings of
stdin, locales, --explain, --vocabulary, broken lexicon files, argv that is not UTF-8."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli import app

SENTENCE = "營收 1.4 兆美元，漲幅 8% 2024 年創新高"
SPOKEN_CN = "营收一点四万亿美元，涨幅百分之八，二零二四年创新高"


@pytest.fixture(autouse=True)
def own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config folder of the test's own: the developer's lexicon and presets stay out."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config / "digest"


def run(*args: str, stdin: bytes = b""):
    return CliRunner().invoke(app, ["normalize", *args], input=stdin)


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception  # not an escaped error
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("digest: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "big5", "utf-16"])
def test_stdin_encoding_is_detected_as_build_does(encoding: str) -> None:
    text = SENTENCE + "\n本週颱風逼近，氣象局發布海上警報。\n"
    result = run(stdin=text.encode(encoding))
    assert result.exit_code == 0, result.output
    assert result.stdout == SPOKEN_CN + "\n本周台风逼近，气象局发布海上警报。\n"


def test_lines_in_lines_out_and_empty_input() -> None:
    assert run(stdin=b"").stdout == ""
    assert run(stdin="共有 2 艘\n\n第 3 名".encode()).stdout == "共有两艘\n\n第三名"


def test_binary_stdin_is_one_line() -> None:
    assert_one_line_error(run(stdin=b"\x00\x01\x02" * 100), "stdin", "binary")


@pytest.mark.parametrize("locale", ["banana", "zh", "en-US", "zh-CN'><x/>"])
def test_unknown_locale_is_refused(locale: str) -> None:
    assert_one_line_error(run("--locale", locale, stdin=b"x"), "unknown locale", "zh-TW")


def test_locales_are_case_insensitive_and_dialects_known() -> None:
    assert run("--locale", "zh-tw", stdin="2 艘".encode()).stdout == "兩艘"
    assert run("--locale", "zh-CN-liaoning", stdin="2 艘".encode()).stdout == "两艘"


def test_explain_prints_each_rewrite() -> None:
    result = run("--explain", stdin="涨幅8% 2024年营收\n".encode())
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "> 涨幅8% 2024年营收",
        'adjacent_numbers: " " → "，"',
        'percentages: "8%" → "百分之8"',
        'years: "2024" → "二零二四"',
        'cardinals: "8" → "八"',
        "= 涨幅百分之八，二零二四年营收",
    ]


def test_vocabulary_option_and_preset_key(own_config: Path) -> None:
    assert run(stdin="人工智慧".encode()).stdout == "人工智慧"
    assert run("--vocabulary", "mainland", stdin="人工智慧".encode()).stdout == "人工智能"
    assert_one_line_error(run("--vocabulary", "pinyin", stdin=b"x"), "--vocabulary", "mainland")
    presets = own_config / "voices"
    presets.mkdir(parents=True)
    (presets / "mainlandish.toml").write_text(
        'engine = "edge"\nvoice = "zh-CN-YunxiNeural"\nvocabulary = "mainland"\n', encoding="utf-8"
    )
    assert run("--voice", "mainlandish", stdin="演算法".encode()).stdout == "算法"
    # the option wins over the preset
    result = run("--voice", "mainlandish", "--vocabulary", "keep", stdin="演算法".encode())
    assert result.stdout == "演算法"


# --- lexicon files (issue 9 item 13) --------------------------------------------------------------
@pytest.mark.parametrize(
    "content,fragment",
    [
        (b'"\xff\xfe" = "x"\n', "not valid UTF-8"),
        ('"重庆" = \n'.encode(), "malformed lexicon"),
        ('"重庆" = 3\n'.encode(), "malformed lexicon"),
        (b"#" * 1_000_001, "larger than 1,000,000 bytes"),
    ],
    ids=["invalid-utf8", "bad-toml", "bad-value", "too-large"],
)
def test_broken_lexicon_file_is_one_line(
    tmp_path: Path, own_config: Path, content: bytes, fragment: str
) -> None:
    bad = tmp_path / "words.toml"
    bad.write_bytes(content)
    assert_one_line_error(run("--lexicon", str(bad), stdin=b"x"), str(bad), fragment)
    # the same file as the user's own lexicon breaks every command the same clean way
    own_config.mkdir(parents=True)
    (own_config / "lexicon.toml").write_bytes(content)
    assert_one_line_error(run(stdin=b"x"), "lexicon.toml", fragment)
    script = CliRunner().invoke(app, ["script", "-"], input="今天 2 艘船".encode())
    assert_one_line_error(script, "lexicon.toml", fragment)


def test_stdin_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import digest.cli

    monkeypatch.setattr(digest.cli, "MAX_NORMALIZE_BYTES", 1000)
    assert_one_line_error(run(stdin=b"a" * 1001), "stdin", "larger than 1,000 bytes")
    assert run(stdin=b"a" * 1000).stdout == "a" * 1000


# --- argv that is not UTF-8 (issue 9 item 13) ------------------------------------------------------
@pytest.mark.parametrize(
    "argv,flag",
    [
        ([b"script", b"-", b"--title", b"\xff\xfe\xb0\xa1"], "--title"),
        ([b"build", b"-", b"--engine", b"offline", b"--show", b"caf\xe9"], "--show"),
        ([b"build", b"-", b"--engine", b"offline", b"--title", b"\xc3"], "--title"),
    ],
)
def test_invalid_utf8_arguments_are_one_line(tmp_path: Path, argv: list[bytes], flag: str) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "LC_ALL": "C.UTF-8"}
    process = subprocess.run(
        [sys.executable.encode(), b"-m", b"digest", *argv],
        input="今天有 2 艘船进港。".encode(),
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert process.returncode == 2, process.stderr
    lines = process.stderr.decode("utf-8", "replace").splitlines()
    assert lines == [f"digest: error: {flag} is not valid UTF-8 text"]
    assert process.stdout == b""
    assert not (tmp_path / "output").exists()


def test_script_and_build_options_take_the_vocabulary() -> None:
    from digest.pipeline import BuildOptions, prepare_text

    article = "人工智慧新創\n\n這家公司開發演算法與軟體，人生智慧也很重要。\n"
    result = CliRunner().invoke(app, ["script", "-", "--vocabulary", "mainland"], input=article)
    assert result.exit_code == 0, result.output
    assert "开发算法与软件，人生智慧也很重要。" in result.stdout
    kept = CliRunner().invoke(app, ["script", "-"], input=article)
    assert "开发演算法与软体" in kept.stdout
    prepared = prepare_text(article, BuildOptions(vocabulary="mainland"))
    assert prepared.script.title == "人工智慧新創"  # chapter titles stay as written
    assert any("人工智能新创" in c for ch in prepared.script.chapters for c in ch.chunks)
    bad = CliRunner().invoke(app, ["script", "-", "--vocabulary", "x"], input=article)
    assert_one_line_error(bad, "--vocabulary 'x'")


def test_what_normalization_cannot_speak_is_one_prefixed_warning_through_one_channel(tmp_path):
    """The normalize filter and a build both warn through the CLI's reporter; -q silences a build's."""
    result = CliRunner().invoke(app, ["normalize", "--locale", "zh-CN"], input="比 3≈π\n")
    assert result.stdout == "比三≈π\n"
    assert result.stderr == "digest: warning: speech normalization left symbols '≈' in “比 3≈π”\n"

    article = tmp_path / "a.txt"
    article.write_text("标题\n\n比 3≈π。\n", encoding="utf-8")
    common = ["build", str(article), "--engine", "offline", "-o", str(tmp_path / "o"), "--no-cache"]
    loud = CliRunner().invoke(app, common)
    assert loud.exit_code == 0, loud.output
    assert "digest: warning: speech normalization left symbols '≈' in “比 3≈π。”" in loud.stderr
    quiet = CliRunner().invoke(app, [*common, "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
