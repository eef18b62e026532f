"""Dates, clock and race times, and calendar years versus durations."""

from __future__ import annotations

import re
from functools import lru_cache

from .base import DASH, MEASURE_CHARS, Ctx, LazyText, alt, alt_of, lazy_re
from .spell import cardinal, digits


def _is_year(y: str) -> bool:
    return len(y) == 4 and 1000 <= int(y) <= 2199


def _md_ok(m: str, d: str | None = None) -> bool:
    return 1 <= int(m) <= 12 and (d is None or 1 <= int(d) <= 31)


def _ymd(ctx: Ctx, y: str, m: str, d: str | None = None, roc: bool = False) -> str:
    out = (cardinal(y) if roc else digits(y)) + "年" + cardinal(m) + "月"
    return ctx.t(out + (cardinal(d) + "日" if d else ""))


# --- dates ------------------------------------------------------------------------------------
# 2027/4/12, 2028-02-07, 2029.01.15 (the separators must agree)
_YMD = lazy_re(r"(?<![\d.\-/])(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})(?![\d]|[.\-/]\d)")
# ROC dates with a 3-digit year: 113/11/30, 113.11.30
_ROC = lazy_re(r"(?<![\d.\-/])(\d{3})([/.])(\d{1,2})\2(\d{1,2})(?![\d]|[./]\d)")
# 2027/4 and 2024-12 (a month of two digits, so 2024-25 stays a range)
_YM = lazy_re(r"(?<![\d.\-/])(\d{4})(?:/(\d{1,2})|-(0[1-9]|1[0-2]))(?![\d/\-])")
# 9月7—9日: the day range inside one month
_DAY_RANGE = lazy_re(
    lambda: rf"(\d{{1,2}})月(\d{{1,2}})[日号號]?[ \t]?{DASH}[ \t]?(\d{{1,2}})([日号號])"
)
# M/D is a date only next to a cue; otherwise it is a fraction (§2.15)
_MD_BEFORE = alt(
    "于", "在", "自", "从", "至", "到", "截至", "定于", "是", "为", "于本", "订于", "延至", "改至"
)
_MD_AFTER = alt(
    "起",
    "前",
    "后",
    "止",
    "当天",
    "当日",
    "开幕",
    "举行",
    "上线",
    "开卖",
    "截止",
    "上午",
    "下午",
    "晚上",
    "凌晨",
    "中午",
    "晚间",
    "开始",
    "开跑",
    "登场",
    "发布",
    "公布",
    "开放",
    "开学",
    "生效",
    "出发",
)
_MD = lazy_re(
    lambda: (
        rf"(?:(?P<cue>{_MD_BEFORE})(\d{{1,2}})/(\d{{1,2}})(?![\d/])"
        rf"|(?<![\d./])(\d{{1,2}})/(\d{{1,2}})(?=[ \t]?(?:{_MD_AFTER}|[（(][周週星]))(?!/))"
    )
)
# 98年7月: a 2-digit year before a month is read digit by digit
_SHORT_YEAR = lazy_re(r"(?<![\d.])(\d{2})(?=年\d{1,2}月)")
# 3·15, 7·20: a named date is read digit by digit without the dot
_DOT_DATE = lazy_re(r"(?<![\d.])(\d{1,2})[·・•](\d{1,2})(?!\d)")


# --- seasons, quarters and halves (§5.5) -------------------------------------------------------
# 2022/23赛季: two years joined by a slash before a season word are a range, never a fraction
_SEASON = lazy_re(
    lambda: (
        rf"(?<![\d./])(\d{{4}})/(\d{{2}})(?=[ \t]?{alt('赛季', '球季', '年度', '财年', '学年', '财政年度', '雪季', '季')})"
    )
)
# 2028Q1, 2027H2: a quarter or a half after a year
_YEAR_PART = lazy_re(r"(?<![\d.A-Za-z])(\d{4})[ \t]?([QH])([1-4])(?![\dA-Za-z])")
# Q2-Q4, H1-H2: a range of quarters
_PART_RANGE = lazy_re(
    lambda: rf"(?<![A-Za-z])([QH])([1-4])[ \t]?(?:{DASH}|至|到)[ \t]?\1([1-4])(?![\dA-Za-z])"
)
_HALVES = {"1": "上半年", "2": "下半年"}


def seasons(text: str, ctx: Ctx) -> str:
    """2022/23赛季 → 二零二二到二三赛季; 2028Q1 → 二零二八年第一季度; 2027H2 → 二零二七年下半年;
    Q2-Q4 → Q二到Q四."""
    if "/" in text:
        text = _SEASON.sub(
            lambda m: (
                digits(m.group(1)) + ctx.t("到") + digits(m.group(2))
                if _is_year(m.group(1))
                else m.group()
            ),
            text,
        )
    if "Q" not in text and "H" not in text:
        return text

    def part(m: re.Match[str]) -> str:
        year, kind, n = m.groups()
        if not _is_year(year) or (kind == "H" and n not in _HALVES):
            return m.group()
        said = "第" + cardinal(n) + "季度" if kind == "Q" else _HALVES[n]
        return digits(year) + ctx.t("年" + said)

    text = _YEAR_PART.sub(part, text)
    return _PART_RANGE.sub(
        lambda m: (
            m.group(1) + cardinal(m.group(2)) + ctx.t("到") + m.group(1) + cardinal(m.group(3))
        ),
        text,
    )


def numeric_dates(text: str, ctx: Ctx) -> str:
    """2027/4/12 → 二零二七年四月十二日; 113/11/30 → 一百一十三年十一月三十日."""

    def ymd(m: re.Match[str]) -> str:
        y, _, mo, d = m.groups()
        return _ymd(ctx, y, mo, d) if _is_year(y) and _md_ok(mo, d) else m.group()

    def roc(m: re.Match[str]) -> str:
        y, _, mo, d = m.groups()
        return _ymd(ctx, y, mo, d, roc=True) if int(y) >= 1 and _md_ok(mo, d) else m.group()

    def ym(m: re.Match[str]) -> str:
        y, mo = m.group(1), m.group(2) or m.group(3)
        return _ymd(ctx, y, mo) if _is_year(y) and _md_ok(mo) else m.group()

    if "/" in text or "-" in text or "." in text:
        text = _YMD.sub(ymd, text)
        text = _ROC.sub(roc, text)
        text = _YM.sub(ym, text)
    return text


# 5.1假期 → 五一假期, 10.1黄金周 → 十一黄金周: M.D before a holiday word is the holiday's name
_HOLIDAY_DOT = lazy_re(
    lambda: (
        rf"(?<![\d.])(\d{{1,2}})\.(\d{{1,2}})(?=[ \t]?{alt('假期', '小长假', '长假', '黄金周', '劳动节', '国际劳动节', '档期', '前后', '期间', '假日', '出游', '旅游')})"
    )
)


@lru_cache(maxsize=8)
def _named_dot_date(words: tuple[str, ...]) -> re.Pattern[str]:
    # 8.18店庆 → 八一八店庆, 6.1儿童节 → 六一儿童节: M.D as a name, digit by digit (§5.4)
    return re.compile(rf"(?<![\d.])(\d{{1,2}})\.(\d{{1,2}})(?![\d.])(?=[ \t]?{alt_of(words)})")


def month_day(text: str, ctx: Ctx) -> str:
    """9/28 next to a date cue → 九月二十八日; 9月7—9日 → 九月七日到九日; 3·15 → 三一五;
    8.18店庆 → 八一八店庆."""

    def md(m: re.Match[str]) -> str:
        cue = m.group("cue") or ""
        mo, d = (m.group(2), m.group(3)) if cue else (m.group(4), m.group(5))
        return cue + ctx.t(cardinal(mo) + "月" + cardinal(d) + "日") if _md_ok(mo, d) else m.group()

    def day_range(m: re.Match[str]) -> str:
        mo, d1, d2, day = m.groups()
        return ctx.t(cardinal(mo) + "月" + cardinal(d1)) + day + ctx.t("到" + cardinal(d2)) + day

    if "月" in text:
        text = _DAY_RANGE.sub(day_range, text)
    if "." in text:
        text = ctx.pattern("named_dot_date", _named_dot_date, "named_date").sub(
            lambda m: (
                digits(m.group(1) + m.group(2)) if _md_ok(m.group(1), m.group(2)) else m.group()
            ),
            text,
        )
        text = _HOLIDAY_DOT.sub(
            lambda m: (
                cardinal(m.group(1)) + digits(m.group(2))
                if _md_ok(m.group(1), m.group(2))
                else m.group()
            ),
            text,
        )
    if "/" in text:
        text = _MD.sub(md, text)
    if "年" in text:
        text = _SHORT_YEAR.sub(lambda m: digits(m.group(1)), text)
    if "·" in text or "・" in text or "•" in text:
        text = _DOT_DATE.sub(lambda m: digits(m.group(1) + m.group(2)), text)
    return text


# --- clock and race times --------------------------------------------------------------------
_RACE_CUE = alt(
    "成绩",
    "用时",
    "耗时",
    "跑出",
    "完赛",
    "夺冠",
    "时间为",
    "游出",
    "纪录",
    "记录",
    "净时间",
    "枪声成绩",
)
_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
_CLOCK = lazy_re(
    lambda: (
        rf"(?<![\d:.])(?P<cue>{_RACE_CUE}[^\d\n，。；]{{0,4}})?{_TIME}(?![\d:.]\d)(?:[ \t]?(?P<to>{DASH}|到|至)[ \t]?{_TIME}(?![\d:]))?"
    )
)
_WEAK_RACE_CUE = lazy_re(lambda: alt("时间为"))
_RACE_AFTER = lazy_re(
    lambda: rf"[ \t]?{alt('完赛', '夺冠', '冲线', '撞线', '的成绩', '的佳绩', '完成比赛', '打破')}"
)
# M:SS.ss is only ever a race time (三分三十一秒四六)
_LAP = lazy_re(r"(?<![\d:.])(\d{1,2}):(\d{2})\.(\d{1,3})(?!\d)")


def _minutes(mm: str, unit: str) -> str:
    return ("零" + cardinal(mm) if mm[0] == "0" else cardinal(mm)) + unit


def _clock(h: str, mm: str, ss: str | None) -> str | None:
    if int(h) > 24 or int(mm) > 59 or (ss is not None and int(ss) > 59):
        return None
    out = cardinal(h, liang=True) + "点"
    if ss is not None and int(ss):
        return out + _minutes(mm, "分") + _minutes(ss, "秒")
    return out + (_minutes(mm, "分") if int(mm) else "")


def _race(h: str, mm: str, ss: str | None) -> str:
    if ss is None:  # M:SS
        return cardinal(h, liang=True) + "分" + _minutes(mm, "秒")
    return cardinal(h, liang=True) + "小时" + _minutes(mm, "分") + _minutes(ss, "秒")


# 46秒40, 13秒09: two digits right after N秒 are hundredths, read digit by digit
_HUNDREDTHS = lazy_re(lambda: rf"(?<=\d秒)(\d{{2}})(?![\d.%]|{MEASURE_CHARS}|[A-Za-z])")


_ZERO_MINUTE = lazy_re(lambda: rf"(?<=\d{alt('时', '点')})0(?=[1-9]分)|(?<=\d分)0(?=[1-9]秒)")


def clock_times(text: str, ctx: Ctx) -> str:
    """02:50 → 两点五十分; 22:30-05:00 → 二十二点三十分到五点; race 2:21:47 → 两小时二十一分四十七秒."""
    if "分" in text or "秒" in text:
        # 18时05分, 7点08分: written leading zeros of minutes and seconds are read (零五分)
        text = _ZERO_MINUTE.sub("零", text)
    if "秒" in text:
        text = _HUNDREDTHS.sub(lambda m: digits(m.group(1)), text)
    if ":" not in text:
        return text

    def lap(m: re.Match[str]) -> str:
        mi, ss, frac = m.groups()
        return ctx.t(cardinal(mi, liang=True) + "分" + _minutes(ss, "秒") + digits(frac))

    def clock(m: re.Match[str]) -> str:
        cue = m.group("cue") or ("" if _RACE_AFTER.match(text, m.end()) and m.group(4) else None)
        h, mm, ss = m.group(2), m.group(3), m.group(4)
        # A span (9:00-17:00) is opening hours, never a race time; and 时间为 is a weak cue
        # (办理时间为工作日9:00): it makes a race time of H:MM:SS only.
        if cue is not None and (m.group("to") or (ss is None and _WEAK_RACE_CUE.match(cue))):
            text_cue, cue = cue, None
        else:
            text_cue = ""
        if cue is not None:
            return cue + ctx.t(_race(h, mm, ss))
        first = _clock(h, mm, ss)
        if first is None:
            return m.group()
        if m.group("to"):
            second = _clock(m.group(6), m.group(7), m.group(8))
            if second is None:
                return text_cue + ctx.t(first) + m.group()[m.end(4 if ss else 3) - m.start() :]
            # a written 至/到 stays (§2.7); a dash is read 到
            to = m.group("to") if m.group("to") in ("至", "到") else "到"
            return text_cue + ctx.t(first + to + second)
        return text_cue + ctx.t(first)

    text = _LAP.sub(lap, text)
    return _CLOCK.sub(clock, text)


# --- years and durations -----------------------------------------------------------------------
# A span word before the number makes it a duration: 距今约1300年 is 一千三百年.
_SPAN_CUE = alt(
    "距今",
    "长达",
    "历时",
    "已有",
    "过去",
    "至今已",
    "已经有",
    "有着",
    "超过",
    "前后",
    "整整",
    "将近",
)
_HEDGE = alt("约", "近", "逾", "超过", "大约", "将近", "差不多", "足足", "整整")
_SPAN_HINT = lazy_re(lambda: _SPAN_CUE)
_DURATION = lazy_re(lambda: rf"(?P<cue>{_SPAN_CUE})(?P<h>{_HEDGE}?)(?P<n>\d{{4}})(?=年)")
# A year: 2035年, 1970年代, 2026财年 — but not 1300多年 / 1000余年 (durations)
_YEAR_AFTER = alt("年", "财年", "学年", "赛季", "年度", "届")
# 2024级新生: 级 is a year only before a word for students (1000级台阶 is a count)
_CLASS_YEAR = LazyText(
    lambda: (
        rf"级(?={alt('新生', '学生', '本科', '研究生', '硕士', '博士', '同学', '校友', '毕业生', '学员')})"
    )
)
_YEAR = lazy_re(lambda: rf"(?<![\d.第])(\d{{4}})(?={_YEAR_AFTER}|{_CLASS_YEAR})(?!年[多余])")
# 国办发〔2024〕5号: the year of a document number, in 〔〕 (or [] ［］ before N号)
_DOC_YEAR = lazy_re(r"(?:(?<=〔)(\d{4})(?=〕)|(?<=[\[［])(\d{4})(?=[\]］]第?\d+[号號]))")
# After 公元/公元前/西元 a 3-digit year is read digit by digit too
_ERA = lazy_re(lambda: rf"({alt('公元前', '公元', '西元', '西元前')})(\d{{3,4}})(?!\d)")


# 1990s: an English decade
_DECADE_S = lazy_re(r"(?<![\d.])(1\d{2}0|20\d0)s(?![A-Za-z])")


@lru_cache(maxsize=8)
def _two_digit_year(before: tuple[str, ...], events: tuple[str, ...]) -> re.Pattern[str]:
    # 08年奥运会, 自97年起: a two-digit year (§5.4); 在10年内 and 经营了30年 are durations
    return re.compile(
        rf"(?:(?<=[^\d.]){alt_of(before)}|^{alt_of(before)})(?P<n>\d{{2}})"
        rf"(?=年(?![内內来來间間里裡多余餘左以后後前]))"
        rf"|(?<![\d.])(?P<n2>\d{{2}})(?=年{alt_of(events)})"
    )


def years(text: str, ctx: Ctx) -> str:
    """2035年 → 二零三五年; 距今约1300年 and 1300多年 stay cardinals (the cardinal rule reads them)."""
    if "〔" in text or "[" in text or "［" in text:
        text = _DOC_YEAR.sub(
            lambda m: digits(m.group()) if _is_year(m.group()) else m.group(), text
        )
    if "0s" in text:
        text = _DECADE_S.sub(lambda m: digits(m.group(1)) + ctx.t("年代"), text)
    if (
        "年" not in text
        and "季" not in text
        and "届" not in text
        and "屆" not in text
        and "级" not in text
        and "級" not in text
    ):
        return text
    if "年" in text:
        text = ctx.pattern("two_digit_year", _two_digit_year, "year_before", "year_event").sub(
            lambda m: m.group()[:-2] + digits(m.group()[-2:]), text
        )
    if _SPAN_HINT.search(text):
        text = _DURATION.sub(
            lambda m: m.group("cue") + m.group("h") + ctx.t(cardinal(m.group("n"), liang=True)),
            text,
        )
    if "元" in text:
        text = _ERA.sub(lambda m: m.group(1) + digits(m.group(2)), text)
    return _YEAR.sub(lambda m: digits(m.group(1)) if _is_year(m.group(1)) else m.group(), text)
