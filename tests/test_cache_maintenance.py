"""`digest cache info|prune` and the automatic size cap from config.toml (issue 9.9)."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cache import ClipCache
from digest.cache_maintenance import cache_info, prune
from digest.cli import app
from digest.engines.base import Boundary, Speech
from digest.errors import InputError
from digest.settings import load_settings
from digest.sizes import parse_age, parse_size
from digest_testing.fake_edge import fake_audio

DAY = 86400.0


def fill(root: Path, ages_in_days: list[float], chars: int = 40) -> list[str]:
    """One clip per age, each last used that many days ago; returns their keys in order."""
    cache = ClipCache(root)
    keys = []
    for n, age in enumerate(ages_in_days):
        key = f"{n:02x}" * 32
        text = f"第{n}条。" + "字" * chars
        cache.put(key, Speech(fake_audio(text), (Boundary(0.1, 0.5, text),)))
        when = time.time() - age * DAY
        for path in (root / key[:2]).glob(f"{key}.*"):
            os.utime(path, (when, when))
        keys.append(key)
    return keys


def present(root: Path, keys: list[str]) -> list[bool]:
    return [(root / k[:2] / f"{k}.mp3").exists() for k in keys]


def test_sizes_and_ages_parse():
    assert parse_size("2G") == 2 * 1024**3
    assert parse_size("500M") == 500 * 1024**2
    assert parse_size("1.5GB") == int(1.5 * 1024**3)
    assert parse_size("1024") == 1024
    assert parse_age("30d") == 30 * DAY and parse_age("12h") == 12 * 3600
    assert parse_age("2w") == 14 * DAY
    for bad in ("", "2X", "-1G", "G"):
        with pytest.raises(ValueError):
            parse_size(bad)
    with pytest.raises(ValueError):
        parse_age("30")


def test_info_counts_clips_and_bytes(tmp_path):
    keys = fill(tmp_path, [1, 2, 3])
    info = cache_info(tmp_path)
    assert info.clips == len(keys)
    assert info.size == sum(p.stat().st_size for p in tmp_path.rglob("*.*"))
    assert info.oldest_use is not None and info.oldest_use < time.time() - 2.9 * DAY


def test_prune_older_than_removes_only_clips_unused_that_long(tmp_path):
    keys = fill(tmp_path, [40, 31, 29, 1])
    result = prune(tmp_path, older_than=30 * DAY)
    assert present(tmp_path, keys) == [False, False, True, True]
    assert result.removed == 2 and result.kept == 2
    assert not list(tmp_path.rglob(f"{keys[0]}.*"))  # the metadata went with the audio


def test_prune_max_size_removes_least_recently_used_first(tmp_path):
    keys = fill(tmp_path, [5, 1, 9, 3])
    sizes = {k: sum(p.stat().st_size for p in tmp_path.rglob(f"{k}.*")) for k in keys}
    budget = sizes[keys[1]] + sizes[keys[3]]  # room for the two most recently used
    result = prune(tmp_path, max_size=budget)
    assert present(tmp_path, keys) == [False, True, False, True]
    assert result.size <= budget and result.freed == sizes[keys[0]] + sizes[keys[2]]


def test_a_cache_hit_counts_as_a_use(tmp_path):
    keys = fill(tmp_path, [9, 1])
    assert ClipCache(tmp_path).get(keys[0]) is not None  # used just now
    size = sum(p.stat().st_size for p in tmp_path.rglob(f"{keys[0]}.*"))
    prune(tmp_path, max_size=size)
    assert present(tmp_path, keys) == [True, False]


def test_cli_info_and_prune(tmp_path):
    keys = fill(tmp_path, [40, 20, 1])
    runner = CliRunner()
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert info.exit_code == 0, info.output
    assert info.stdout.splitlines()[0].startswith(f"{tmp_path}: 3 clips, ")
    pruned = runner.invoke(
        app, ["cache", "prune", "--older-than", "30d", "--cache-dir", str(tmp_path)]
    )
    assert pruned.exit_code == 0, pruned.output
    assert pruned.stdout.strip().startswith(f"{tmp_path}: removed 1 clip(s)")
    assert present(tmp_path, keys) == [False, True, True]
    pruned = runner.invoke(app, ["cache", "prune", "--max-size", "0", "--cache-dir", str(tmp_path)])
    assert pruned.exit_code == 0 and present(tmp_path, keys) == [False, False, False]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--older-than", "soon"], "--older-than"),
        (["--max-size", "lots"], "--max-size"),
        ([], "say what to remove"),
    ],
)
def test_cli_prune_refuses_bad_options_in_one_line(tmp_path, argv, fragment):
    result = CliRunner().invoke(app, ["cache", "prune", *argv, "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("digest: error: ") and fragment in lines[0]


# --------------------------------------------------------------------------- config.toml


def write_config(home: Path, text: str) -> Path:
    path = home / "digest" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_file_is_read_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_settings().cache_max_size is None  # no file: no cap
    write_config(tmp_path, '[cache]\nmax_size = "2G"\n')
    assert load_settings().cache_max_size == 2 * 1024**3
    for bad in (
        '[cache]\nmax_size = "huge"\n',
        "[cache]\nmax_size = true\n",
        "[cache",
        "cache = 3",
    ):
        path = write_config(tmp_path, bad)
        with pytest.raises(InputError) as caught:
            load_settings()
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_build_prunes_the_cache_past_its_configured_cap_with_one_line(
    fake_edge, tmp_path, monkeypatch
):
    from digest.pipeline import BuildOptions, build_episode

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    cache = tmp_path / "cache"
    old = fill(cache, [10, 9, 8, 7, 6, 5], chars=200)
    old_size = cache_info(cache).size
    write_config(tmp_path / "config", f'[cache]\nmax_size = "{old_size // 1024}k"\n')
    article = tmp_path / "a.txt"
    article.write_text("标题\n\n" + "今天天气很好，适合出门。" * 20 + "\n", encoding="utf-8")
    warnings: list[str] = []
    options = BuildOptions(
        engine="edge", output_dir=tmp_path / "out", cache_dir=cache, date=dt.date(2026, 3, 1)
    )
    build_episode(article, options, warn=warnings.append)
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("the clip cache was over its ") and "removed " in warnings[0]
    assert cache_info(cache).size <= old_size // 1024 * 1024
    kept = present(cache, old)
    assert kept == sorted(kept)  # the oldest went first
    assert not kept[0] and kept[-1]
    # the clips of this build stay: a rebuild asks the service for nothing
    fake_edge.clear()
    build_episode(article, options)
    assert fake_edge.count() == 0
