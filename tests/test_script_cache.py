"""Issue 14, warm re-runs: an unchanged article's script is remembered, so a warm build
neither normalizes nor imports the normalizer; anything the script depends on changes
the key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from digest.pipeline import BuildOptions, prepare_text
from digest.script_cache import script_key
from tests.test_startup import digest_command, imported_modules

ARTICLE = "测试文章\n\n01 第一部分\n\n营收增长 8%，达到 2,500 亿元。\n\n02 第二部分\n\n2026年3月1日发布。\n"


def options(tmp_path: Path, **more) -> BuildOptions:
    return BuildOptions(engine="offline", cache_dir=tmp_path / "cache", **more)


def test_a_warm_build_does_not_import_the_normalizer(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    command = digest_command() + [
        "build", str(article), "--engine", "offline", "--quiet", "--concurrency", "3",
        "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "out"),
    ]  # fmt: skip
    environment = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    runs = [
        subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
        for _ in range(2)
    ]
    cold, warm = (imported_modules(run.stderr) for run in runs)
    assert "digest.normalization" in cold and "digest.pipeline" in warm
    assert not [m for m in warm if m.startswith("digest.normalization")]
    assert not [m for m in warm if m.split(".")[0] in ("pydantic", "pypinyin", "opencc")]
    outputs = sorted((tmp_path / "out").glob("*.mp3"))
    assert len(outputs) == 1  # the warm build replaced the cold one's episode


def test_the_remembered_script_is_the_one_normalization_makes(tmp_path):
    cold = prepare_text(ARTICLE, options(tmp_path))
    warm = prepare_text(ARTICLE, options(tmp_path))
    fresh = prepare_text(ARTICLE, BuildOptions(engine="offline", use_cache=False))
    assert warm.script == cold.script == fresh.script
    assert warm.article == fresh.article
    assert "两千五百亿" in "".join(warm.script.chapters[0].chunks)


@pytest.mark.parametrize(
    "change",
    [
        {"text": ARTICLE.replace("8%", "9%")},
        {"title": "另一个标题"},
        {"locale": "zh-TW"},
        {"vocabulary": "mainland"},
        {"chunk_chars": 120},
    ],
)
def test_whatever_the_script_depends_on_changes_the_key(change):
    inputs = dict(
        text=ARTICLE, title=None, locale="zh-CN", vocabulary="keep", chunk_chars=500,
        lexicon_file=None,
    )  # fmt: skip
    text = inputs.pop("text")
    base = script_key(text, **inputs)
    changed = dict(inputs, **{k: v for k, v in change.items() if k != "text"})
    assert script_key(change.get("text", text), **changed) != base


def test_editing_the_lexicon_makes_the_script_again(tmp_path):
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text('"第一部分" = "第壹部分"\n', encoding="utf-8")
    first = prepare_text(ARTICLE, options(tmp_path, lexicon=lexicon))
    lexicon.write_text('"第一部分" = "头一部分"\n', encoding="utf-8")
    second = prepare_text(ARTICLE, options(tmp_path, lexicon=lexicon))
    assert "第壹部分" in first.script.chapters[0].chunks[0]
    assert "头一部分" in second.script.chapters[0].chunks[0]


def test_a_damaged_entry_is_ignored_and_written_again(tmp_path):
    first = prepare_text(ARTICLE, options(tmp_path))
    (entry,) = (tmp_path / "cache").glob("*/*.script.json")
    entry.write_text('{"format": 1, "key": "x", "script": [1, 2]}', encoding="utf-8")
    again = prepare_text(ARTICLE, options(tmp_path))
    assert again.script == first.script
    assert '"chapters"' in entry.read_text(encoding="utf-8")


def test_remembered_scripts_are_counted_and_pruned_with_the_clips(tmp_path):
    import time

    from digest.cache_maintenance import cache_info, prune

    prepare_text(ARTICLE, options(tmp_path))
    info = cache_info(tmp_path / "cache")
    assert (info.clips, info.scripts) == (0, 1) and info.size > 0
    (entry,) = (tmp_path / "cache").glob("*/*.script.json")
    old = time.time() - 40 * 86400
    os.utime(entry, (old, old))
    prune(tmp_path / "cache", older_than=30 * 86400)
    assert not entry.exists()
