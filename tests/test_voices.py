from pathlib import Path

import pytest

from digest.errors import DigestError, InputError
from digest.voices import (
    EDGE_CHINESE_VOICES,
    KNOWN_LOCALES,
    check_locale,
    list_presets,
    load_preset,
    locale_of,
    parse_percent,
    parse_pitch,
    resolve_voice,
)


def test_bundled_presets_cover_mainland_female_male_and_taiwan():
    presets = {p.name: p for p in list_presets()}
    voices = {p.speaker.voice for p in presets.values()}
    assert {"zh-CN-XiaoxiaoNeural", "zh-CN-YunyangNeural", "zh-TW-HsiaoChenNeural"} <= voices
    assert presets["hsiaochen"].speaker.locale == "zh-TW"


def test_raw_voice_names_and_overrides():
    preset = resolve_voice("zh-TW-YunJheNeural", rate="10%", pitch="-5Hz")
    assert preset.speaker.voice == "zh-TW-YunJheNeural"
    assert preset.speaker.locale == "zh-TW"
    assert (preset.speaker.rate, preset.speaker.pitch) == ("+10%", "-5Hz")
    assert resolve_voice().speaker.voice == "zh-CN-XiaoxiaoNeural"


def test_locale_of_dialect_voice():
    assert locale_of("zh-CN-liaoning-XiaobeiNeural") == "zh-CN-liaoning"
    assert locale_of("zh-HK-HiuGaaiNeural") == "zh-HK"


@pytest.mark.parametrize("name", ["Xiaoxiao", "zh-CN-XiaochenNeural", "nobody"])
def test_unknown_voices_are_refused_with_one_line(name):
    with pytest.raises(DigestError) as info:
        resolve_voice(name)
    assert "\n" not in str(info.value) and "unknown voice" in str(info.value)


@pytest.mark.parametrize("value", ["fast", "10", "+1.5%", "-100%", "+10Hz", "1000%"])
def test_malformed_rates_are_refused(value):
    with pytest.raises(DigestError, match="bad rate"):
        parse_percent(value, "rate")


def test_pitch_forms():
    assert parse_pitch("5Hz") == "+5Hz"
    with pytest.raises(DigestError, match="bad pitch"):
        parse_pitch("+5%")


# --- presets from the user's folder are untrusted input (issue 9 items 12, 13, 18) ---------------


@pytest.fixture
def user_presets(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    folder = tmp_path / "config" / "digest" / "voices"
    folder.mkdir(parents=True)
    return folder


@pytest.mark.parametrize(
    "content,fragment",
    [
        ('voice = "zh-CN-Xiaoxiao\'><evil/>Neural"\n', "is not an edge voice"),
        ('voice = "zh-CN-XiaoxiaoNeural\\"/><prosody>"\n', "is not an edge voice"),
        ('voice = "zh-CN-NobodyNeural"\n', "is not an edge voice"),
        ('engine = "offline"\nvoice = "cmn\'><evil/>"\n', "is not a voice name"),
        ('voice = "zh-CN-XiaoxiaoNeural"\nlocale = "banana"\n', "unknown locale 'banana'"),
        ('voice = "zh-CN-XiaoxiaoNeural"\nlocale = 3\n', "unknown locale 3"),
        ('voice = "zh-CN-XiaoxiaoNeural"\nvocabulary = "pinyin"\n', "vocabulary 'pinyin'"),
        ('voice = "zh-CN-XiaoxiaoNeural"\nrate = "fast"\n', "bad rate"),
        ('voice = "zh-CN-XiaoxiaoNeural"\n"\xff" = 1\n', "not valid UTF-8"),
        ("#" * 1_000_001, "larger than 1,000,000 bytes"),
    ],
    ids=[
        "ssml-in-voice",
        "quote-in-voice",
        "unserved-voice",
        "ssml-in-offline-voice",
        "unknown-locale",
        "locale-not-text",
        "vocabulary",
        "rate",
        "invalid-utf8",
        "too-large",
    ],
)
def test_bad_user_preset_is_refused_with_one_line(user_presets, content, fragment):
    path = user_presets / "mine.toml"
    path.write_bytes(content.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
    with pytest.raises(InputError) as info:
        resolve_voice("mine")
    message = str(info.value)
    assert "\n" not in message
    assert "mine.toml" in message and fragment in message, message


def test_good_user_preset_with_locale_and_vocabulary(user_presets):
    (user_presets / "mine.toml").write_text(
        'voice = "zh-HK-HiuMaanNeural"\nlocale = "zh-tw"\nvocabulary = "mainland"\nrate = "5%"\n',
        encoding="utf-8",
    )
    preset = resolve_voice("mine")
    assert preset.speaker.locale == "zh-TW"  # canonical spelling
    assert preset.vocabulary == "mainland"
    assert preset.speaker.rate == "+5%"
    assert load_preset(user_presets / "mine.toml") == preset


def test_known_locales():
    assert {"zh-CN", "zh-TW", "zh-HK", "zh-CN-liaoning", "zh-CN-shaanxi"} == set(KNOWN_LOCALES)
    assert check_locale("ZH-cn") == "zh-CN"
    for bad in ("banana", "", "zh", "zh-CN-", "en-US"):
        with pytest.raises(InputError, match="unknown locale"):
            check_locale(bad)
    # every bundled preset and every edge voice has a known locale
    assert all(p.speaker.locale in KNOWN_LOCALES for p in list_presets())
    assert all(locale_of(v) in KNOWN_LOCALES for v in EDGE_CHINESE_VOICES)
