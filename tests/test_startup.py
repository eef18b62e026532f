"""Start-up stays cheap: `digest --help` imports none of the heavy libraries (issue 14).

Each check runs a fresh interpreter with `-X importtime` (or its environment
variable, for the console script), which lists every module imported, and
fails naming the heavy ones it finds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

# Built on first use by the commands that need them, never by `digest --help`.
HEAVY = (
    "opencc",
    "pypinyin",
    "edge_tts",
    "aiohttp",
    "rich",
    "digest.normalization",
    "digest.pipeline",
)
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|( *)(\S+)\s*$", re.M)


def imported_modules(importtime_log: str) -> set[str]:
    """Module names from `-X importtime` output."""
    return {match.group(2) for match in _IMPORTED.finditer(importtime_log)}


def heavy_among(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def digest_command() -> list[str]:
    script = Path(sys.executable).with_name("digest")
    return [str(script)] if script.exists() else [sys.executable, "-m", "digest"]


def test_importing_the_cli_imports_nothing_heavy():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import digest.cli"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = imported_modules(done.stderr)
    assert {"digest.cli", "typer"} <= modules  # the log was read: the CLI itself is in it
    assert heavy_among(modules) == []


def test_digest_help_imports_nothing_heavy():
    environment = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    done = subprocess.run(
        digest_command() + ["--help"], capture_output=True, text=True, env=environment, check=True
    )
    assert "build" in done.stdout and "normalize" in done.stdout  # the real help was printed
    modules = imported_modules(done.stderr)
    assert "digest.cli" in modules
    assert heavy_among(modules) == []


def test_the_check_sees_a_heavy_import():
    """The same reading flags a command that does pull in the normalizer."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import digest.cli, digest.normalization"],
        capture_output=True,
        text=True,
        check=True,
    )
    # (only the package itself: whether it builds OpenCC at import is its own business)
    assert "digest.normalization" in heavy_among(imported_modules(done.stderr))


def _modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    return imported_modules(done.stderr)


def test_the_normalizer_imports_opencc_only_for_a_conversion_that_needs_it():
    """The cue words' Traditional spellings and the t2s tables are read from OpenCC's files;
    its converters (~20 ms each to build) are built only for s2tw or tw2sp text."""
    imported = _modules_after("import digest.normalization")
    assert "digest.normalization.rules" in imported and "opencc" not in imported
    mainland = _modules_after(
        "from digest.normalization import normalize\n"
        "assert normalize('GPT-4 在 2035 年，臺灣') == 'GPT四在二零三五年，台湾'"
    )
    assert "opencc" not in mainland
    simplified_for_taiwan = _modules_after(
        "from digest.normalization import normalize\n"
        "assert normalize('台风来袭 3 次', 'zh-TW') == '颱風來襲三次'"
    )
    assert "opencc" in simplified_for_taiwan


def test_a_warm_build_does_not_import_pypinyin(tmp_path):
    """The episode's file name comes from pypinyin's data files (digest.pinyin), not from
    importing pypinyin (0.4 s of CPU and 57 MB, issue 14)."""
    code = (
        "import datetime, json, sys\n"
        "from pathlib import Path\n"
        "from digest.pipeline import BuildOptions, build_episode\n"
        "from digest_testing.fake_engine import FakeEngine\n"
        "folder = Path(sys.argv[1])\n"
        "article = folder / 'article.txt'\n"
        "article.write_text('重庆银行行长谈音乐\\n\\n行长说，音乐让人快乐。\\n', encoding='utf-8')\n"
        "options = BuildOptions(engine=FakeEngine(), output_dir=folder / 'out',\n"
        "                       cache_dir=folder / 'cache', date=datetime.date(2026, 1, 2))\n"
        "build_episode(article, options)\n"
        "warm = build_episode(article, options)\n"
        "assert warm.stats.requests == 0 and warm.stats.cached > 0\n"
        "assert warm.files.mp3.name == '2026-01-02-chong-qing-yin-hang-hang-zhang-tan-yin-yue.mp3'\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    imported = set(json.loads(done.stdout))
    assert "digest" in imported  # the list was read
    assert "pypinyin" not in imported


LINE = "GPT-4 在 2035 年前後，氣溫 -10℃，漲幅 8%-10%，營收 1.4 兆美元"  # benchmarks/scale.py's
SPOKEN = "GPT四在二零三五年前后，气温零下十摄氏度，涨幅百分之八到百分之十，营收一点四万亿美元"


def test_digest_normalize_imports_neither_pydantic_nor_opencc():
    """typer would import pydantic to coerce normalize's options, even those left out
    (digest.plain_options defers it); a mainland line needs no OpenCC converter."""
    environment = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    done = subprocess.run(
        digest_command() + ["normalize"],
        input=LINE + "\n",
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    assert done.stdout == SPOKEN + "\n"
    modules = imported_modules(done.stderr)
    assert "digest.normalization.rules" in modules
    assert sorted(m for m in modules if m.split(".")[0] in ("pydantic", "opencc")) == []


def test_importing_the_normalizer_compiles_no_rule_pattern_and_a_line_reads_no_phrase_file():
    """Rule patterns compile on first use; the cue words' Traditional spellings come from
    spellings.py, so a line does not read OpenCC's 49,000-line STPhrases.txt."""
    code = (
        "import importlib, pkgutil\n"
        "import digest.normalization as package\n"
        "from digest.normalization import base, dictionaries\n"
        "modules = [importlib.import_module(package.__name__ + '.' + m.name)\n"
        "           for m in pkgutil.iter_modules(package.__path__)]\n"
        "patterns = [v for m in modules for v in vars(m).values()\n"
        "            if isinstance(v, base.LazyPattern)]\n"
        "assert len(patterns) > 100, len(patterns)\n"
        "compiled = [p for p in patterns if 'sub' in vars(p)]\n"
        "assert compiled == [], [p.pattern for p in compiled]\n"
        "read = []\n"
        "original = dictionaries.phrase_table\n"
        "dictionaries.phrase_table = lambda name: read.append(name) or original(name)\n"
        f"assert package.normalize({LINE!r}) == {SPOKEN!r}\n"
        "assert 'STPhrases.txt' not in read, read\n"
        "compiled = [p for p in patterns if 'sub' in vars(p)]\n"
        "assert 0 < len(compiled) < len(patterns) / 2, len(compiled)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plain_option_values_are_what_typer_itself_makes():
    """digest.plain_options converts plain values without pydantic: the same values typer's
    own coercion gives, and anything it does not handle (errors too) is left to typer."""
    import typer.main
    from typer._coercion import build_runtime_param

    from digest.cli import app
    from digest.plain_options import _plain_value

    build = typer.main.get_command(app).commands["build"]
    descriptors = {p.name: p.type_descriptor for p in build.params if hasattr(p, "type_descriptor")}
    cases = {
        "concurrency": ["6", "+3", 6, "007"],
        "max_chars": ["2000000", 12],
        "retries": ["5", 5, 1],
        "timeout": ["60", "0.5e1", 60.0, "2.5", 3],
        "output_dir": ["out", "a/b", Path("x")],
        "title": ["标题"],
    }
    for name, values in cases.items():
        typer_own = build_runtime_param(descriptors[name])
        for value in values:
            plain = _plain_value(descriptors[name], value)
            if plain is not None:
                assert plain == typer_own._coerce_value(value, param=None, ctx=None), (name, value)
                assert type(plain) is type(typer_own._coerce_value(value, param=None, ctx=None))
    # out of range, not a number, empty: typer decides (and words the error)
    assert _plain_value(descriptors["retries"], "0") is None
    assert _plain_value(descriptors["concurrency"], "six") is None
    assert _plain_value(descriptors["concurrency"], True) is None
    assert _plain_value(descriptors["output_dir"], "") is None


# What a warm build of a file never needs: the event loop (every clip is in the cache),
# the scheduler, entry-point metadata (built-in engine), the web reader and HTML parser,
# mutagen and the pinyin reader (the tag and the file name are remembered: digest.memo).
WARM_BUILD_NEVER_IMPORTS = (
    "mutagen",
    "digest.pinyin",
    "edge_tts",
    "aiohttp",
    "asyncio",
    "digest.synthesis",
    "importlib.metadata",
    "digest.web",
    "digest.html_text",
    "html.parser",
)


def test_a_warm_edge_build_imports_no_edge_client(fake_edge, tmp_path):
    """Every clip cached: no request, so neither edge-tts nor aiohttp (and its SSL
    contexts) is imported, nor asyncio; the clips' cache keys still name the client's
    version.  The re-run writes over the first build's files, the same bytes, and
    reads whose they are without mutagen."""
    import sys

    article = tmp_path / "a.txt"
    article.write_text("测试\n\n01 第一节\n\n今天天气很好。\n", encoding="utf-8")
    arguments = [
        "build", str(article), "--engine", "edge", "--quiet", "--json",
        "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "out"),
    ]  # fmt: skip
    cold = [sys.executable, "-m", "digest_testing.against", fake_edge.base_url, *arguments]
    subprocess.run(cold, capture_output=True, text=True, check=True)
    first = {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()}
    requests = len(fake_edge.requests)
    environment = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    warm = subprocess.run(
        digest_command() + arguments, capture_output=True, text=True, env=environment, check=True
    )
    summary = json.loads(warm.stdout)
    assert summary["engine"] == "edge" and summary["cached_clips"] >= 1
    assert len(fake_edge.requests) == requests
    assert {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()} == first
    modules = imported_modules(warm.stderr)
    assert "digest.pipeline" in modules  # the log was read
    assert (
        sorted(
            m
            for m in modules
            if any(m == name or m.startswith(name + ".") for name in WARM_BUILD_NEVER_IMPORTS)
        )
        == []
    )


def test_the_edge_client_version_is_read_without_importing_it():
    """The version in every edge clip's cache key, as the package's metadata gives it."""
    import importlib.metadata

    code = "import sys; from digest.engines.edge import EdgeEngine; print(EdgeEngine.version); "
    code += "print(sorted(m for m in sys.modules if m.startswith(('edge_tts', 'aiohttp'))))"
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert printed == [f"edge-tts-{importlib.metadata.version('edge-tts')}", "[]"]
