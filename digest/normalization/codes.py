"""Numbers that are names, not quantities: phone numbers, digit strings, model names and codes."""

from __future__ import annotations

import re
from functools import lru_cache

from .base import CJK, MAG, MEASURE_CHARS, Ctx, LazyText, alt, alt_of, charset, lazy_re
from .spell import cardinal, decimal, digits
from .units import UNIT_SYMBOL

# --- phone numbers ---------------------------------------------------------------------------
_SEP = r"[ \t\-]?"
_PHONE = lazy_re(
    lambda: (
        r"(?<![\dA-Za-z.+/])(?:"
        r"\+\d{1,3}(?:[ \t\-]?\(?\d{1,4}\)?){2,5}"  # +886-2-2720-8889: always a phone
        r"|1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4}"  # mainland mobile
        r"|09\d{2}" + _SEP + r"\d{3}" + _SEP + r"\d{3}"  # Taiwan mobile
        r"|(?:0800|400|800)" + _SEP + r"\d{3}" + _SEP + r"\d{3,4}"  # toll-free
        r"|\(0\d{1,3}\)[ \t]?\d{3,4}" + _SEP + r"\d{4}"  # (02)2720-8889
        r"|0\d{1,3}-\d{3,4}-?\d{4}"  # 021-54889900, 02-2720-8889
        r"|0\d{2,3}-\d{5,8}"  # 010-12388: an area code and a short local number
        r")(?![\d])"
    )
)
_PHONE_WORD = alt(
    "拨打",
    "拨",
    "致电",
    "电话",
    "热线",
    "专线",
    "报警",
    "手机",
    "号码",
    "客服",
    "来电",
    "专区电话",
    "服务电话",
)
# Short service numbers (110, 1955, 12315) are phones only next to a phone word.
_SERVICE = lazy_re(
    lambda: (
        rf"(?P<cue>{_PHONE_WORD}[:：]?(?:为|為|是)?)(?P<n>\d[\d\-() \t]{{6,}}\d|\d{{3,5}})(?![\d.])"
        rf"(?P<more>(?:{alt('或', '、', '和', '及', '或者')}\d{{3,5}}(?![\d.]))*)"
        rf"|(?<![\d.])(?P<n2>\d{{3,5}})(?={_PHONE_WORD})"
    )
)
_MORE_PHONES = lazy_re(r"\d+")
_PHONE_WORD_HINT = lazy_re(lambda: _PHONE_WORD)
# every phone number but a +code one has 7 or more digits in one run of digits, blanks, - ( )
_LONG_DIGITS = lazy_re(r"\d[\d \t\-()]{5,}\d")
_PHONE_JUNK = lazy_re(r"[ \t\-()（）]")


def _say_phone(number: str, ctx: Ctx) -> str:
    plus = "加" if number.startswith("+") else ""
    return plus + digits(_PHONE_JUNK.sub("", number.lstrip("+")), yao=ctx.yao)


def phone_numbers(text: str, ctx: Ctx) -> str:
    """0800-092-000 → 零八零零零九二零零零; 拨打12315 → 拨打幺二三幺五 (一 for zh-TW)."""
    if "+" in text or _LONG_DIGITS.search(text):
        text = _PHONE.sub(lambda m: _say_phone(m.group(), ctx), text)
    if not _PHONE_WORD_HINT.search(text):
        return text

    def service(m: re.Match[str]) -> str:
        if m.group("cue"):
            more = _MORE_PHONES.sub(lambda d: _say_phone(d.group(), ctx), m.group("more"))
            return m.group("cue") + _say_phone(m.group("n"), ctx) + more
        return _say_phone(m.group("n2"), ctx)

    return _SERVICE.sub(service, text)


# --- digit strings --------------------------------------------------------------------------
# 95后, 00後: generation labels (but not 3天后: the digits must touch 后)
_GENERATION = lazy_re(r"(?<![\d.])(\d{2})(?=[后後](?![面来來续續期果]))")
# 921大地震, 911事件, 618大促: a month-day nickname before an event word
_EVENT_WORD = alt(
    "大地震",
    "地震",
    "事件",
    "恐袭",
    "恐攻",
    "大促",
    "购物节",
    "晚会",
    "纪念日",
    "惨案",
    "事变",
    "暴雨",
    "空难",
    "特大暴雨",
    "水灾",
    "年中庆",
    "年中",
    "购物狂欢节",
    "狂欢节",
    "电商节",
    "运动",
    "表白日",
)
_EVENT_HINT = lazy_re(lambda: _EVENT_WORD)
_EVENT = lazy_re(lambda: rf"(?<![\d.])([1-9][0-3]?\d{{2}})(?=[ \t]?{_EVENT_WORD})")
# A handful of named days people never say as cardinals, when no quantity follows
_NAMED_DAYS = ("520", "618", "911", "315", "921", "228")
_NAMED_DAY = lazy_re(
    lambda: rf"(?<![\d.第])(520|618|911|315|921|228)(?![\d.%]|[ \t]?{MEASURE_CHARS}|[A-Za-z])"
)
_COUNT_BEFORE = "(?<![共达達约約近逾超行开開计計余餘加增])"
# Road and train numbers: 国道318, 318国道, G318 (the Latin rule), 1461次列车, 806车次
_ROAD_TRAIN = lazy_re(
    lambda: (
        rf"(?P<cue>{alt('国道', '省道', '县道', '乡道')})(?P<n>\d{{3}})(?![\d.]|{alt('公里', '千米', '米', '多', '余')}|km)"
        # a count word before the digits makes them a count: 加开120次列车, 共开行806车次
        rf"|(?<![\d.]){_COUNT_BEFORE}(?P<n2>\d{{3,5}})(?={alt('国道', '省道', '县道', '车次', '次列车', '次动车', '次高铁', '次旅客列车', '次特快', '次班机', '次航班')})"
    )
)
_ROAD_TRAIN_HINT = lazy_re(
    lambda: alt(
        "国道",
        "省道",
        "县道",
        "乡道",
        "车次",
        "次列车",
        "次动车",
        "次高铁",
        "次旅客列车",
        "次特快",
        "次班机",
        "次航班",
    )
)
# 985高校, 211工程, 985、211高校: a 3-digit label glued to a word for a class of schools
# (前200大学 and 共100所 are counts)
_SCHOOL_LABEL = lazy_re(
    lambda: (
        rf"(?<![\d.]){_COUNT_BEFORE}(?<!前|第)(\d{{3}})(?=(?:[、和及与/]\d{{3}})*{alt('高校', '院校', '工程', '名校', '大学', '学校', '计划')})"
    )
)
_SCHOOL_HINT = lazy_re(lambda: alt("高校", "院校", "工程", "名校", "大学", "学校", "计划"))
# Stock codes: 4–6 digits alone in brackets after a name: 宁德时代(300750)
_STOCK = lazy_re(r"(?<=[\u4e00-\u9fffA-Za-z])([（(])(\d{4,6})((?:\.[A-Z]{2})?[)）])")
# Identifiers after a label: 编号A1023, 代码600519, 车次G1234, 工号0931
_ID_LABEL = alt(
    "编号",
    "代码",
    "代号",
    "工号",
    "房号",
    "学号",
    "证号",
    "单号",
    "订单号",
    "车次",
    "尾号",
    "邮编",
    "型号",
    "批号",
    "序号",
    "案号",
    "航班号",
    "货号",
    "账号",
    "帐号",
    "验证码",
    "密码",
    "股票代码",
    "邮政编码",
    "邮递区号",
    "车牌",
    "编码",
)
_ID_HINT = lazy_re(lambda: _ID_LABEL)
_ID = lazy_re(
    lambda: rf"(?P<cue>{_ID_LABEL}[:：为為是]?[ \t]?)(?P<code>[A-Za-z\-]*\d[\dA-Za-z\-]*)"
)
# Dotted numbers with two or more dots are versions or addresses: 192.168.1.1, 17.4.1
_DOTTED = lazy_re(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.])")
# Chinese brand prefixes whose model numbers are codes: 波音777, 空巴A350, 骁龙8
_BRAND = alt(
    "波音",
    "空客",
    "空巴",
    "骁龙",
    "天玑",
    "麒麟",
    "锐龙",
    "酷睿",
    "猎户座",
    "商飞",
    "运",
    "歼",
    "东风",
)
_BRAND_HINT = lazy_re(lambda: _BRAND)
_BRAND_CODE = lazy_re(lambda: rf"(?P<brand>{_BRAND})(?P<n>\d{{3,}})(?![\d.])")


# 601318.SH, (09988.HK): a stock code with an exchange suffix, the dot dropped (§5.6)
_EXCHANGE = lazy_re(r"(?<![\d.])(\d{4,6})\.(HK|SH|SZ|SS|US|TW|TWO|T|KS|KQ)(?![A-Za-z])")


@lru_cache(maxsize=8)
def _room_patterns(
    before: tuple[str, ...], after: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Room, suite and extension numbers, read digit by digit (§5.6): after a cue word
    (转分机3307), or before one (C-204室, 1506房), a letter and a hyphen allowed in front."""
    cue_before = re.compile(
        rf"(?P<cue>{alt_of(before)})[:：]?(?P<pre>[A-Za-z]-?)?(?P<n>\d{{3,}})"
        rf"(?![\d.%‰]|{MAG}|{MEASURE_CHARS}|[A-Za-z])"
    )
    cue_after = re.compile(
        rf"(?<![A-Za-z\d.\-])(?P<pre>[A-Za-z]-?)?(?P<n>\d{{3,}})(?={alt_of(after)})"
    )
    return cue_before, cue_after


_THREE_DIGITS = lazy_re(r"\d{3}")


def _room(m: re.Match[str]) -> str:
    pre = (m.group("pre") or "").rstrip("-")
    return (m.groupdict().get("cue") or "") + pre + digits(m.group("n"))


def _code_digits(s: str) -> str:
    return digits(s) if len(s) >= 3 else cardinal(s)


def digit_strings(text: str, ctx: Ctx) -> str:
    """95后 → 九五后, 921大地震 → 九二一大地震, (300750) → (三零零七五零), 双12 stays for the cardinal rule."""
    # each sub runs only when its cue can occur (a cheap test; the pipeline's hot path)
    if "后" in text or "後" in text:
        text = _GENERATION.sub(lambda m: digits(m.group(1)), text)
    if _EVENT_HINT.search(text):
        text = _EVENT.sub(lambda m: digits(m.group(1)), text)
    if any(day in text for day in _NAMED_DAYS):
        text = _NAMED_DAY.sub(lambda m: digits(m.group(1)), text)
    if _ROAD_TRAIN_HINT.search(text):
        text = _ROAD_TRAIN.sub(
            lambda m: (m.group("cue") or "") + digits(m.group("n") or m.group("n2")), text
        )
    if _SCHOOL_HINT.search(text):
        text = _SCHOOL_LABEL.sub(lambda m: digits(m.group(1)), text)
    if "." in text:
        text = _EXCHANGE.sub(lambda m: digits(m.group(1)) + m.group(2), text)
    if "(" in text or "（" in text:
        text = _STOCK.sub(lambda m: m.group(1) + digits(m.group(2)) + m.group(3), text)
    if _ID_HINT.search(text):
        text = _ID.sub(lambda m: m.group("cue") + _spell_code(m.group("code")), text)
    room_before, room_after = ctx.pattern("rooms", _room_patterns, "room_before", "room_after")
    text = room_before.sub(_room, text)
    text = room_after.sub(_room, text)
    if text.count(".") >= 2:
        text = _DOTTED.sub(lambda m: "点".join(cardinal(p) for p in m.group().split(".")), text)
    if _BRAND_HINT.search(text):
        text = _BRAND_CODE.sub(lambda m: m.group("brand") + digits(m.group("n")), text)
    return text


def _spell_code(code: str) -> str:
    """An identifier: digit runs digit by digit, letters kept, hyphens between digits dropped."""
    code = re.sub(r"(?<=\d)-(?=\d)", "", code)
    return re.sub(r"\d+", lambda m: digits(m.group()), code)


# --- Latin + number names -------------------------------------------------------------------
# A number belongs to a name when it follows a Latin word directly or after a hyphen
# (the blank was already removed). A quantity word after the digits means it is not a name:
# Meta 1000萬美元, Sony 2023年.
_QUANTITY_AFTER = LazyText(
    lambda: rf"(?:[万萬亿億兆千百年月日%‰℃°]|{MEASURE_CHARS}|[ \t]?{UNIT_SYMBOL}(?![A-Za-z]))"
)
_NAME = lazy_re(
    lambda: (
        r"(?<![A-Za-z\d.])(?P<name>[A-Za-z]+(?:[-.&'][A-Za-z]+)*)(?P<sep>-?)"
        rf"(?P<num>\d+(?:\.\d+)*)(?![\d])(?!\.\d)(?!{_QUANTITY_AFTER})(?P<hyphen>-(?=[A-Za-z]|\d+(?:\.\d+)?[A-Z](?![A-Za-z])))?"
    )
)
# 6G, 8K, 7B, 405B: digits and one capital letter: a cardinal and the letter
# (L, W and V are units, left for the unit rule: 1.25L, 450W)
_DIGIT_LETTER = lazy_re(r"(?<![A-Za-z\d.])(\d+(?:\.\d+)?)(?=[A-KM-UX-Z](?![A-Za-z]))")


def _version(num: str) -> str:
    """GPT-5 → 五, iOS 17.4 → 十七点四, RTX 5080 → 五零八零."""
    if "." in num:
        head, *rest = num.split(".")
        return cardinal(head) + "".join("点" + digits(r) for r in rest)
    return digits(num) if len(num) >= 3 else cardinal(num)


# Capital letters glued to 3+ digits before a transport word are a flight or train number,
# even though 次/班 are also measure words: G1234次, BR189班机, CA1234航班
_TRANSPORT_CODE = lazy_re(
    lambda: (
        rf"(?<![A-Za-z\d.])([A-Z]{{1,3}})(\d{{3,5}})(?=[ \t]?{alt('次', '班', '航班', '列车', '动车', '号列车')})"
    )
)


# --- designations: a Chinese name, a hyphen, a number (§5.2) ----------------------------------
# 歼-20, 东风-17, 轰-6K: never 负 or 到. Not after a word that takes a signed number
# (为-3%, 降至-5, 海拔-154米) and not before a unit, magnitude or measure word.
_NOT_A_NAME = "为為至到达達是降跌升涨漲约約近于於在从從由减減增加和与與或及以比低高温溫拔差值率额額幅报報得录錄年月日号號时時点點分秒周週季"
# a signed quantity goes on with a unit or a count word (-154米, -3个); a name does not
# (歼-20首飞, where 首 is only a measure word elsewhere)
_QUANTITY_WORD = charset("米元度克吨升倍点分秒年月日天岁亩斤个名人家位次户码里寸尺")
_DESIGNATION = lazy_re(
    lambda: (
        rf"(?<={CJK})(?<![{_NOT_A_NAME}])-(?P<n>\d{{1,4}})"
        rf"(?![\d.]|[ \t]?(?:{MAG}|[%‰‱℃°]|{UNIT_SYMBOL}(?![A-Za-z])|{_QUANTITY_WORD}))"
    )
)


def _cjk_name_before_hyphen(text: str) -> bool:
    """Whether a hyphen follows a CJK character (base.CJK) not in _NOT_A_NAME, as the
    pattern's lookbehinds require: most hyphens do not, and then it need not be compiled."""
    i = text.find("-", 1)
    while i > 0:
        before = text[i - 1]
        if ("\u3400" <= before <= "\u9fff" or "\uf900" <= before <= "\ufaff") and (
            before not in _NOT_A_NAME
        ):
            return True
        i = text.find("-", i + 1)
    return False


def designations(text: str, ctx: Ctx) -> str:
    """歼-20 → 歼二十, 东风-17 → 东风十七, 鲲龙-600 → 鲲龙六零零 (a model number, §2.20)."""
    if "-" not in text or not _cjk_name_before_hyphen(text):
        return text
    return _DESIGNATION.sub(lambda m: ctx.t(_version(m.group("n"))), text)


# No.5 → No五: the dot of the abbreviation goes (§5.6)
_NO_DOT = lazy_re(r"(?<![A-Za-z])(No|NO|no)\.[ \t]?(?=\d)")
# 1080P, 720p: a video resolution is a code, digit by digit
_RESOLUTION = lazy_re(r"(?<![A-Za-z\d.])(\d{3,4})([Pp])(?![A-Za-z])")
# 1080P/4K, 5G/4G: a slash between two codes is "or" (§5.7)
_CODE_OR = lazy_re(r"(?<=\d[A-Za-z])/(?=\d{1,4}[A-Za-z](?![A-Za-z]))")


def latin_names(text: str, ctx: Ctx) -> str:
    """GPT-5 → GPT五, A350 → A三五零, SARS-CoV-2 → SARS-CoV二, 5G → 五G."""
    if not any("A" <= c <= "z" for c in text):
        return text
    if "." in text:
        text = _NO_DOT.sub(r"\1", text)
    if "/" in text:
        text = _CODE_OR.sub(ctx.t("或"), text)
    text = _RESOLUTION.sub(lambda m: digits(m.group(1)) + m.group(2), text)
    text = _TRANSPORT_CODE.sub(lambda m: m.group(1) + digits(m.group(2)), text)
    # A name ends where its number starts; letters after it (4o, 355X) are left as they are
    # and a second number (Qwen2.5-VL-72B) is caught by the next match.
    for _ in range(3):
        # a hyphen after the number (Qwen2.5-VL) becomes a blank: - may only stand between letters
        new = _NAME.sub(
            lambda m: (
                m.group("name")
                + ctx.t(_version(m.group("num")))
                + (" " if m.group("hyphen") else "")
            ),
            text,
        )
        if new == text:
            break
        text = new
    # 7B → 七B, but 235B → 两百三十五B like every leading 2 before 百 (never 两B)
    return _DIGIT_LETTER.sub(
        lambda m: ctx.t(decimal(m.group(1), liang=len(m.group(1).split(".")[0]) >= 3)), text
    )
