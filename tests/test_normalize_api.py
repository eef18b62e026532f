"""The normalizer's API: locales, lexicon loading and errors, links, articles, contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.errors import DigestError
from digest.normalization import extract_links, load_lexicon, normalize, violations

DATA = Path(__file__).parent / "data"


def test_locales() -> None:
    assert normalize("共有 2 艘船", "zh-CN") == "共有两艘船"
    assert normalize("共有 2 艘船", "zh-CN-liaoning") == "共有两艘船"
    assert normalize("共有 2 艘船", "zh-TW") == "共有兩艘船"
    assert normalize("共有 2 艘船", "zh-HK") == "共有兩艘船"
    assert normalize("这是简体", "zh-TW") == "這是簡體"


def test_default_lexicon_is_used_and_overridable() -> None:
    assert normalize("實施996工作制") == "实施九九六工作制"
    assert normalize("重庆火锅", lexicon={"重庆": "崇庆"}) == "崇庆火锅"
    assert normalize("重慶火鍋", lexicon={"重庆": "崇庆"}) == "崇庆火锅"  # both scripts match
    assert (
        normalize("23M 與 3M", lexicon={"3M": "三M"}) == "二十三M与三M"
    )  # no match inside 23M; blanks touching a code with digits go (§2.1)


def test_load_lexicon_merges_user_file(tmp_path: Path) -> None:
    user = tmp_path / "lexicon.toml"
    user.write_text('"重庆" = "崇庆"\n"3M" = "three M"\n', encoding="utf-8")
    lex = load_lexicon(user)
    assert lex["重庆"] == "崇庆"
    assert lex["3M"] == "three M"  # the user overrides the project default
    assert "7-Eleven" in lex


def test_load_lexicon_terms_table(tmp_path: Path) -> None:
    user = tmp_path / "lexicon.toml"
    user.write_text('[terms]\n"蔚来" = "蔚来汽车"\n', encoding="utf-8")
    assert load_lexicon(user)["蔚来"] == "蔚来汽车"


def test_default_user_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_config_path", lambda name: tmp_path / name)
    assert load_lexicon() == load_lexicon(None)  # no user file: the default only
    (tmp_path / "digest").mkdir()
    (tmp_path / "digest" / "lexicon.toml").write_text('"甲" = "乙"\n', encoding="utf-8")
    assert load_lexicon()["甲"] == "乙"


@pytest.mark.parametrize("content", ['"a" = ', '"a" = 3\n', '= "x"\n', '[terms]\n"a" = ["b"]\n'])
def test_malformed_lexicon_raises_digest_error(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DigestError) as info:
        load_lexicon(bad)
    message = str(info.value)
    assert "bad.toml" in message and "\n" not in message


def test_missing_lexicon_raises_digest_error(tmp_path: Path) -> None:
    with pytest.raises(DigestError, match="nope.toml"):
        load_lexicon(tmp_path / "nope.toml")


def test_extract_links() -> None:
    text, links = extract_links(
        "詳情見官網：https://example.org/2027/plan，或來信 desk@example.com。"
    )
    assert links == ["https://example.org/2027/plan", "desk@example.com"]
    assert "http" not in text and "@" not in text


def test_passthrough_is_byte_identical() -> None:
    text = "Thomas 在 Bloomberg 专访中表示，全年营收约三千亿元　（完）"
    # blanks, the ideographic space and full-width brackets all come back as they were
    assert normalize(text).encode("utf-8") == text.encode("utf-8")


def test_multiline_text() -> None:
    assert (
        normalize("1. 欧洲占 38%；\n2. 东南亚占 21%。")
        == "一、欧洲占百分之三十八；\n二、东南亚占百分之二十一。"
    )


@pytest.mark.parametrize(
    "path",
    sorted(p for p in DATA.glob("*") if p.suffix in (".txt", ".md") and p.name != "README.md"),
    ids=lambda p: p.name,
)
def test_sample_articles_meet_the_contract(path: Path) -> None:
    for line in path.read_text(encoding="utf-8").splitlines():
        out = normalize(line, "zh-CN")
        assert violations(out) == [], (line, out)
        assert normalize(out, "zh-CN") == out


def test_seed_article_sentences() -> None:
    assert normalize("向全球僅 50–100 位擁有大模型訓練經驗的頂尖 AI 研究員發出邀請") == (
        "向全球仅五十到一百位拥有大模型训练经验的顶尖 AI 研究员发出邀请"
    )
    assert normalize("到 2035 年，生成式 AI 業務有望帶來累計 4600 億至 1.4 兆美元營收") == (
        "到二零三五年，生成式 AI 业务有望带来累计四千六百亿至一点四万亿美元营收"
    )
    assert normalize("OpenAI 的 GPT-4、Google的 Gemini") == "OpenAI 的GPT四、Google的 Gemini"
    assert normalize("大模型 Llama 4 並未達到外界預期") == "大模型Llama四并未达到外界预期"
    assert normalize("高山地區可能降至-2°C") == "高山地区可能降至零下两摄氏度"


def test_violations_reports_leftovers() -> None:
    assert violations("仍有 5 个") == ["digits '5'"]
    assert violations("三—四") != []
    assert violations("他说——好") == []
