"""A show's cover art: the one from show.toml, or a generated 1400x1400 PNG.

Apple refuses a show without 1400-3000 px square art, so a show without a
cover gets one drawn with Pillow: the show's name on a colour taken from it,
when a CJK font is installed; otherwise a neutral design without text (a
font without Chinese glyphs would draw empty boxes).  The generated file
carries a PNG text chunk so `digest feed --check` can say it is generated.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from digest.errors import InputError

COVER_SIZE = 1400
GENERATED_MARK = "digest generated cover"
_FONT_NAMES = (
    "NotoSansCJK",
    "NotoSerifCJK",
    "SourceHanSans",
    "wqy-microhei",
    "wqy-zenhei",
    "DroidSansFallback",
    "uming",
    "ukai",
)
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


@dataclass(frozen=True)
class Cover:
    name: str  # the file name in the show folder: cover.jpg or cover.png
    data: bytes
    mime: str
    generated: bool


def find_cjk_font() -> Path | None:
    """An installed font that has Chinese glyphs, or None."""
    for folder in _FONT_DIRS:
        if not folder.is_dir():
            continue
        for name in _FONT_NAMES:
            for path in sorted(folder.rglob(f"*{name}*")):
                if path.suffix.lower() in (".ttf", ".ttc", ".otf"):
                    return path
    return None


def generate_cover(show_name: str, font: Path | None = None) -> bytes:
    """A 1400x1400 RGB PNG with the show's name (or, without a CJK font, without text)."""
    from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

    digest = hashlib.sha256(show_name.encode("utf-8")).digest()
    hue = digest[0] / 255
    background = _hsv(hue, 0.55, 0.35)
    accent = _hsv((hue + 0.08) % 1, 0.45, 0.95)
    image = Image.new("RGB", (COVER_SIZE, COVER_SIZE), background)
    draw = ImageDraw.Draw(image)
    # A row of bars like a sound wave: the same show always gets the same one.
    bars = 21
    width = COVER_SIZE // (bars * 2)
    for i in range(bars):
        height = 120 + digest[(i % 31) + 1] * 2
        x = COVER_SIZE // 2 + (i - bars // 2) * width * 2 - width // 2
        y = 1020
        draw.rounded_rectangle(
            (x, y - height // 2, x + width, y + height // 2), radius=width // 2, fill=accent
        )
    font = font or find_cjk_font()
    if font is not None:
        lines = _wrap(show_name, 8)[:3]
        size = 170 if max(len(line) for line in lines) <= 6 else 140
        try:
            face = ImageFont.truetype(str(font), size)
        except OSError:
            face = None
        if face is not None:
            top = 420 - (len(lines) - 1) * size // 2
            for k, line in enumerate(lines):
                draw.text(
                    (COVER_SIZE // 2, top + k * (size + 30)),
                    line,
                    font=face,
                    fill=(255, 255, 255),
                    anchor="mm",
                )
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Software", GENERATED_MARK)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=meta, dpi=(72, 72), optimize=True)
    return buffer.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    for word in words or [text]:
        while len(word) > width:
            lines.append(word[:width])
            word = word[width:]
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        elif word:
            lines.append(word)
    return lines or [""]


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def show_cover(cover_path: Path | None, show_name: str) -> Cover:
    """The show's own art when show.toml names one (JPEG or PNG), else a generated PNG."""
    if cover_path is None:
        return Cover("cover.png", generate_cover(show_name), "image/png", generated=True)
    try:
        data = cover_path.read_bytes()
    except OSError as exc:
        raise InputError(f"cover {cover_path}: {exc.strerror or exc}") from None
    if data.startswith(b"\xff\xd8\xff"):
        return Cover("cover.jpg", data, "image/jpeg", generated=False)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Cover("cover.png", data, "image/png", generated=False)
    raise InputError(f"cover {cover_path}: not a JPEG or PNG image")


def is_generated(path: Path) -> bool:
    """True for a cover this module drew."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            return image.info.get("Software") == GENERATED_MARK
    except OSError:
        return False
