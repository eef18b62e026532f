"""The README's Python examples run, in order, as a reader would paste them."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_python_examples_run_and_print_what_they_promise(tmp_path):
    blocks = python_blocks()
    assert len(blocks) >= 4
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    script = tmp_path / "readme_examples.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    # A fresh interpreter: the engine registry and the cache start empty, as for a reader.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "c")}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("out/2026-11-30-zao-jian-jian-bao-") and lines[0].endswith(".mp3")
    assert "['天气', '交通']" in lines
    assert "GPT四在二零三五年前后，涨幅百分之八到百分之十" in lines
    assert "concurrency must be a whole number of at least 1, not 0" in lines
    assert lines[-1].startswith("beeper ")
    assert len(list((tmp_path / "out").glob("*.mp3"))) == 2
    assert len(list((tmp_path / "beeps").glob("*.mp3"))) == 1
