"""Voice presets (TOML files in `voices/`) and validation of voice settings."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from digest.engines import engine_names, is_engine_name
from digest.engines.base import Speaker
from digest.errors import InputError
from digest.lazy_patterns import lazy_re
from digest.reading import read_limited

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_PRESET = "xiaoxiao"

# The Chinese voices the Edge endpoint serves (edge-tts-protocol.md §11).  A
# name the service does not serve passes edge-tts's own check and then fails
# with NoAudioReceived on every retry, so unknown names are refused up front.
EDGE_CHINESE_VOICES = {
    "zh-CN-XiaoxiaoNeural": "Female",
    "zh-CN-XiaoyiNeural": "Female",
    "zh-CN-YunjianNeural": "Male",
    "zh-CN-YunxiNeural": "Male",
    "zh-CN-YunxiaNeural": "Male",
    "zh-CN-YunyangNeural": "Male",
    "zh-CN-liaoning-XiaobeiNeural": "Female",
    "zh-CN-shaanxi-XiaoniNeural": "Female",
    "zh-HK-HiuGaaiNeural": "Female",
    "zh-HK-HiuMaanNeural": "Female",
    "zh-HK-WanLungNeural": "Male",
    "zh-TW-HsiaoChenNeural": "Female",
    "zh-TW-HsiaoYuNeural": "Female",
    "zh-TW-YunJheNeural": "Male",
}

# The locales a voice or `digest normalize --locale` may name: the edge voices' own, plus
# the three regions. zh-CN* gets Simplified text; zh-TW and zh-HK keep Traditional.
KNOWN_LOCALES = tuple(
    sorted({"zh-CN", "zh-TW", "zh-HK"} | {v.rsplit("-", 1)[0] for v in EDGE_CHINESE_VOICES})
)
# What a voice name may look like, so that nothing from a preset file can reach the SSML
# but a name: edge voices are `xx-YY[-region]-NameNeural`; a local engine's voice
# (espeak-ng's cmn) is a short word of letters, digits and - _ + .
EDGE_VOICE_NAME = re.compile(r"^[a-z]{2,3}-[A-Z]{2}(?:-[a-z]+)?-[A-Z][A-Za-z]*Neural$")
LOCAL_VOICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]{0,63}$")
MAX_PRESET_BYTES = 1_000_000

_RATE = lazy_re(r"^([+-]?)(\d{1,3})%$")
_PITCH = lazy_re(r"^([+-]?)(\d{1,3})Hz$", re.IGNORECASE)


@dataclass(frozen=True)
class VoicePreset:
    name: str
    engine: str
    speaker: Speaker  # who speaks: the engine voice, prosody and locale
    description: str = ""
    vocabulary: str | None = None  # "mainland" or "keep"; None: the default (keep)
    # Believable seconds per character at +0% (digest.checks); None: the engine's default.
    seconds_per_char: tuple[float, float] | None = None


def check_locale(locale: str) -> str:
    """`locale` in its canonical spelling if it is one digest knows; InputError otherwise."""
    for known in KNOWN_LOCALES:
        if isinstance(locale, str) and locale.lower() == known.lower():
            return known
    raise InputError(
        f"unknown locale {locale!r}: use one of {', '.join(KNOWN_LOCALES)}", setting="locale"
    )


def check_voice_name(voice: object, engine: str) -> str:
    """A preset's voice, checked exactly as --voice is: an edge voice must be one the service
    serves (which also fixes its spelling); another engine's voice must be a plain name."""
    if engine == "edge":
        if not isinstance(voice, str) or voice not in EDGE_CHINESE_VOICES:
            raise InputError(f"voice {voice!r} is not an edge voice (see `digest voices`)")
    elif not isinstance(voice, str) or not LOCAL_VOICE_NAME.match(voice):
        raise InputError(f"voice {voice!r} is not a voice name")
    return voice


def preset_dirs() -> list[Path]:
    """Where presets live: the user's own first, then the bundled ones."""
    here = Path(__file__).resolve().parent
    bundled = here / "voices"  # inside an installed wheel
    if not bundled.is_dir():
        bundled = here.parent / "voices"  # a source checkout or editable install
    return [platformdirs.user_config_path("digest") / "voices", bundled]


def list_presets() -> list[VoicePreset]:
    found: dict[str, VoicePreset] = {}
    for folder in reversed(preset_dirs()):
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            found[path.stem] = load_preset(path)
    return sorted(found.values(), key=lambda p: p.name)


def load_preset(path: Path) -> VoicePreset:
    """A voice preset file, every value checked: one-line InputError naming the file."""
    text = read_limited(path, "voice preset", MAX_PRESET_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not a readable voice preset ({exc})".splitlines()[0]) from None
    engine = data.get("engine", "edge")
    if not is_engine_name(engine) or not isinstance(data.get("voice"), str):
        raise InputError(
            f"{path}: a preset needs engine = {'|'.join(engine_names())} and a voice name"
        )
    vocabulary = data.get("vocabulary")
    try:
        voice = check_voice_name(data["voice"], engine)
        locale = check_locale(data["locale"]) if "locale" in data else locale_of(voice)
        if vocabulary is not None:
            from digest.normalization import VOCABULARIES  # only then: the normalizer is heavy

            if vocabulary not in VOCABULARIES:
                raise InputError(
                    f"vocabulary {vocabulary!r} is not one of {', '.join(VOCABULARIES)}"
                )
        settings = Speaker(
            voice=voice,
            locale=locale,
            rate=parse_percent(data.get("rate", "+0%"), "rate"),
            pitch=parse_pitch(data.get("pitch", "+0Hz")),
            volume=parse_percent(data.get("volume", "+0%"), "volume"),
        )
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    description = data.get("description", "")
    bounds = data.get("seconds_per_char")
    if bounds is not None:
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or not all(
                isinstance(b, (int, float)) and not isinstance(b, bool) and b > 0 for b in bounds
            )
            or bounds[0] >= bounds[1]
        ):
            raise InputError(
                f"{path}: seconds_per_char must be [fastest, slowest], e.g. [0.07, 0.7]"
            )
        bounds = (float(bounds[0]), float(bounds[1]))
    return VoicePreset(
        path.stem,
        engine,
        settings,
        description if isinstance(description, str) else "",
        vocabulary,
        bounds,
    )


def locale_of(voice: str) -> str:
    """`zh-CN-liaoning-XiaobeiNeural` -> `zh-CN-liaoning`; `cmn` -> `zh-CN`."""
    parts = voice.split("-")
    return "-".join(parts[:-1]) if len(parts) >= 3 else "zh-CN"


def resolve_voice(
    name: str | None = None,
    *,
    rate: str | None = None,
    pitch: str | None = None,
    volume: str | None = None,
) -> VoicePreset:
    """A preset name or a raw edge-tts voice name, with optional overrides."""
    name = name or DEFAULT_PRESET
    presets = {p.name: p for p in list_presets()}
    if name in presets:
        preset = presets[name]
    elif name in EDGE_CHINESE_VOICES:
        preset = VoicePreset(name, "edge", Speaker(voice=name, locale=locale_of(name)))
    else:
        known = ", ".join(sorted(presets))
        raise InputError(
            f"unknown voice {name!r}: use a preset ({known}) or a voice from `digest voices`"
        )
    overrides = {}
    if rate is not None:
        overrides["rate"] = parse_percent(rate, "rate")
    if pitch is not None:
        overrides["pitch"] = parse_pitch(pitch)
    if volume is not None:
        overrides["volume"] = parse_percent(volume, "volume")
    return replace(preset, speaker=replace(preset.speaker, **overrides))


def parse_percent(value: str, what: str) -> str:
    """`10%`, `+10%`, `-25%` -> the signed form edge-tts requires."""
    match = _RATE.match(str(value).strip())
    if not match or (what == "rate" and match.group(1) == "-" and int(match.group(2)) >= 100):
        raise InputError(f"bad {what} {value!r}: use a signed percentage such as +10% or -20%")
    return f"{match.group(1) or '+'}{int(match.group(2))}%"


def parse_pitch(value: str) -> str:
    match = _PITCH.match(str(value).strip())
    if not match:
        raise InputError(f"bad pitch {value!r}: use signed hertz such as +5Hz or -10Hz")
    return f"{match.group(1) or '+'}{int(match.group(2))}Hz"
