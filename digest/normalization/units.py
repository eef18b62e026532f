"""Unit symbols after a number become their Chinese names: 610km → 610公里.

A unit needs a digit (or a magnitude/range word after one) right before it and no Latin
letter right after it, so the m in Bloomberg never becomes 米. GB, TB, Mbps stay letters.
"""

from __future__ import annotations

import re

from .base import Ctx, alt, lazy_re

# symbol → (mainland reading, Taiwan reading)
_UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("公里每小时", "公里每小時"),
    "kph": ("公里每小时", "公里每小時"),
    "m/s": ("米每秒", "公尺每秒"),
    "mph": ("英里每小时", "英里每小時"),
    "km²": ("平方公里", "平方公里"),
    "km2": ("平方公里", "平方公里"),
    "m²": ("平方米", "平方公尺"),
    "m2": ("平方米", "平方公尺"),
    "m³": ("立方米", "立方公尺"),
    "m3": ("立方米", "立方公尺"),
    "cm²": ("平方厘米", "平方公分"),
    "cm³": ("立方厘米", "立方公分"),
    "km": ("公里", "公里"),
    "cm": ("厘米", "公分"),
    "mm": ("毫米", "毫米"),
    "nm": ("纳米", "奈米"),
    "μm": ("微米", "微米"),
    "µm": ("微米", "微米"),
    "m": ("米", "公尺"),
    "kg": ("公斤", "公斤"),
    "mg": ("毫克", "毫克"),
    "μg": ("微克", "微克"),
    "µg": ("微克", "微克"),
    "g": ("克", "公克"),
    "t": ("吨", "公噸"),
    "ml": ("毫升", "毫升"),
    "mL": ("毫升", "毫升"),
    "cc": ("毫升", "毫升"),
    "L": ("升", "公升"),
    "℃": ("摄氏度", "度"),
    "°C": ("摄氏度", "度"),
    "℉": ("华氏度", "華氏度"),
    "°F": ("华氏度", "華氏度"),
    "°": ("度", "度"),
    "kHz": ("千赫", "千赫"),
    "MHz": ("兆赫", "兆赫"),
    "GHz": ("吉赫", "吉赫"),
    "Hz": ("赫兹", "赫茲"),
    "mAh": ("毫安时", "毫安時"),
    "kWh": ("千瓦时", "千瓦時"),
    "MWh": ("兆瓦时", "兆瓦時"),
    "GWh": ("吉瓦时", "吉瓦時"),
    "TWh": ("太瓦时", "太瓦時"),
    "kW": ("千瓦", "千瓦"),
    "MW": ("兆瓦", "兆瓦"),
    "GW": ("吉瓦", "吉瓦"),
    "W": ("瓦", "瓦"),
    "kV": ("千伏", "千伏"),
    "V": ("伏", "伏特"),
    "dB": ("分贝", "分貝"),
    "kPa": ("千帕", "千帕"),
    "MPa": ("兆帕", "兆帕"),
    "Pa": ("帕", "帕"),
    "ms": ("毫秒", "毫秒"),
    "min": ("分钟", "分鐘"),
    "s": ("秒", "秒"),
    "h": ("小时", "小時"),
    "mmHg": ("毫米汞柱", "毫米汞柱"),
    "mmol": ("毫摩尔", "毫莫耳"),
    "mol": ("摩尔", "莫耳"),
    "ha": ("公顷", "公頃"),
    "lb": ("磅", "磅"),
    "lbs": ("磅", "磅"),
    "oz": ("盎司", "盎司"),
    "ft": ("英尺", "英尺"),
}
_SYMBOLS = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
UNIT_SYMBOL = f"(?:{_SYMBOLS})"  # for rules that must leave a number with a unit alone
# A compound such as mg/L or μg/m³ reads 毫克每升
_UNIT = lazy_re(
    lambda: rf"(?<=[\d万萬亿億千百])[ \t]?(?P<u>{_SYMBOLS})(?:/(?P<per>{_SYMBOLS}))?(?![A-Za-z²³])"
)


# 2700美元/盎司, 5元/斤, 60公里/小时: a slash after a number's unit word, before a CJK unit
# (only a money or measure word before the slash: 3个城市/地区 is an "or")
_PER = lazy_re(
    lambda: (
        rf"(?<=[\d万萬亿億千百])({alt('元', '美元', '欧元', '港元', '日元', '英镑', '韩元', '澳元', '块', '角', '分', '公里', '千米', '米', '公斤', '千克', '克', '毫克', '微克', '纳克', '吨', '升', '毫升', '毫摩尔', '度', '千瓦时', '瓦', '千瓦', '个', '件', '台', '辆', '次', '人次', '例', '毫米', '厘米', '立方米', '贝克')})"
        rf"/(?={alt('斤', '两', '克', '公斤', '千克', '吨', '升', '毫升', '桶', '盎司', '磅', '股', '人', '次', '天', '日', '月', '年', '周', '小时', '时', '分钟', '秒', '平方米', '平米', '平方', '立方米', '平方公里', '公里', '千米', '米', '件', '台', '个', '户', '亩', '公顷', '箱', '张', '份', '瓶', '度', '千瓦时', '晚', '间', '人次', '立方')})"
    )
)


# 0.6元/kWh, 28元/kg: a unit symbol after the slash reads 每 + its name (§5.7)
_PER_SYMBOL = lazy_re(
    lambda: (
        rf"(?<=[\d万萬亿億千百])({alt('元', '美元', '欧元', '港元', '日元', '英镑', '韩元', '块', '角', '分', '个', '次', '台')})"
        rf"/(?P<u>{_SYMBOLS})(?![A-Za-z²³])"
    )
)


# After an amount of money, a slash before any Chinese word is "per": 65万元/坪, 20元/次
_PER_MONEY = lazy_re(
    lambda: (
        rf"(?<=[\d万萬亿億千百])({alt('元', '美元', '欧元', '港元', '日元', '英镑', '韩元', '澳元', '块', '新台币')})"
        r"/(?=[\u4e00-\u9fff])(?![零〇一二两兩三四五六七八九十百千万萬亿億])"
    )  # not a spelled number
)


def units(text: str, ctx: Ctx) -> str:
    """7.5m² → 7.5平方米; 45m/s → 45米每秒; 33℃ → 33摄氏度 (度 for zh-TW)."""

    def say(m: re.Match[str]) -> str:
        pick = 0 if ctx.mainland else 1
        word = _UNITS[m.group("u")][pick]
        if m.group("per"):
            word += "每" + _UNITS[m.group("per")][pick]
        return word

    text = _UNIT.sub(say, text)
    if "/" in text:
        text = _PER.sub(lambda m: m.group(1) + "每", text)
        text = _PER_MONEY.sub(lambda m: m.group(1) + "每", text)
        text = _PER_SYMBOL.sub(
            lambda m: m.group(1) + ctx.t("每") + _UNITS[m.group("u")][0 if ctx.mainland else 1],
            text,
        )
    return text
