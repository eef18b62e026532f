import pytest

from digest.errors import DigestError
from digest.voices import (
    list_presets,
    locale_of,
    parse_percent,
    parse_pitch,
    resolve_voice,
)


def test_bundled_presets_cover_mainland_female_male_and_taiwan():
    presets = {p.name: p for p in list_presets()}
    voices = {p.settings.voice for p in presets.values()}
    assert {"zh-CN-XiaoxiaoNeural", "zh-CN-YunyangNeural", "zh-TW-HsiaoChenNeural"} <= voices
    assert presets["hsiaochen"].settings.locale == "zh-TW"


def test_raw_voice_names_and_overrides():
    preset = resolve_voice("zh-TW-YunJheNeural", rate="10%", pitch="-5Hz")
    assert preset.settings.voice == "zh-TW-YunJheNeural"
    assert preset.settings.locale == "zh-TW"
    assert (preset.settings.rate, preset.settings.pitch) == ("+10%", "-5Hz")
    assert resolve_voice().settings.voice == "zh-CN-XiaoxiaoNeural"


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
