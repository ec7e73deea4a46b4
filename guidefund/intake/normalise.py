"""Pure normalisers: what a unit typed into a cell → the value it clearly meant, or a refusal.

Clearly meant: full-width digits and punctuation (１２３，７５％), thousands separators, a unit
typed after the number (30万元, 300000元 → 30 万元, 12项), stray spaces, percentages as 75, "75%"
or 0.75, 是/否 written as Y/N, √/×, 1/0, Excel date serials and dates typed as text.

Refused (`Refused`, with the rule and a Chinese fix) when the meaning is not certain:
* a plain 1 in a percentage (1% or 100%?): type 100, or "1%";
* a comma not grouping thousands ("1,23": 1.23 or 123?);
* money that would need rounding (300050元 = 30.005 万元); money is never rounded;
* a unit that is not the field's (5家 in a 项 field);
* day-first or month-first dates (01/02/2025); only year-first dates are read;
* a number in a date cell outside the serials of 1990–2099 (2025 is a year, not a date).

Excel keeps 15 significant digits, so floats are read at that precision: the 0.30000000000000004
that a formula =0.1+0.2 caches is the 0.3 the unit sees.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# Beyond any real figure (the whole 2024 fund is 11,087 万元) and below what the warehouse
# stores (INTEGER counts, NUMERIC(18, 2) money): a longer number is a typing error, refused
# here rather than failing the whole batch's load.
TOO_LARGE = Decimal(10) ** 9

# Full-width ASCII (U+FF01–U+FF5E) → ASCII; the ideographic and no-break spaces → space;
# minus-like dashes → '-'; the full-width yen sign → '¥'. Text fields keep their own characters.
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH.update({0x3000: 0x20, 0xA0: 0x20, 0x2212: 0x2D, 0x2013: 0x2D, 0xFFE5: 0xA5})
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

# Units a unit may type after a number, by the field's unit: factor to the field's unit.
UNIT_FACTORS: dict[str, dict[str, Decimal]] = {
    "万元": {
        "万元": Decimal(1),
        "万": Decimal(1),
        "元": Decimal("0.0001"),
        "千元": Decimal("0.1"),
        "亿元": Decimal(10000),
        "亿": Decimal(10000),
    },
    "项": {"项": Decimal(1), "个": Decimal(1)},
    "家": {"家": Decimal(1), "个": Decimal(1)},
    "人次": {"人次": Decimal(1), "人": Decimal(1)},
}
YES_WORDS = frozenset({"是", "y", "yes", "√", "✓", "✔", "1", "true"})
NO_WORDS = frozenset({"否", "n", "no", "×", "✗", "✘", "x", "0", "false"})
GRADE_WORDS = {"优秀": "优", "良好": "良", "中等": "中", "较差": "差"}

# Excel's 1900 date system (its day 60 is the fictitious 1900-02-29, before any date we accept).
_EXCEL_EPOCH = date(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = (
    (date(1990, 1, 1) - _EXCEL_EPOCH).days,
    (date(2099, 12, 31) - _EXCEL_EPOCH).days,
)

_NUMBER = re.compile(
    r"^(?P<sign>[+-]?)\s*[¥$]?\s*(?P<int>\d{1,3}(?:,\d{3})+|\d*)(?P<frac>\.\d+)?\s*(?P<unit>[^\d\s]*)$"
)
_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_YMD_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DAY_FIRST = re.compile(r"^\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}$")
_PERIOD_YEAR = re.compile(r"^(\d{4})(?:年(?:度|全年|年度)?(?:报告)?)?$")
_PERIOD_MONTH = re.compile(r"^(\d{4})(?:年|[-/.])(\d{1,2})(?:月份?|月)?(?:报告)?$")


class Refused(ValueError):
    """A cell whose meaning is not certain: `rule` names why, the message says what to type."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        super().__init__(message)


def halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation → ASCII; odd spaces → ' '; invisibles removed."""
    return text.translate(_HALFWIDTH).translate(_INVISIBLE)


def clean_text(raw: object) -> str | None:
    """Text as typed, without stray spaces at either end; empty → None. Numbers print as Excel
    shows them (13912345678, not 13912345678.0)."""
    if raw is None or isinstance(raw, bool):
        return None if raw is None else ("是" if raw else "否")
    if isinstance(raw, float):
        text = format(raw, ".15g")
    elif isinstance(raw, datetime):
        text = raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat()
    elif isinstance(raw, date):
        text = raw.isoformat()
    else:
        text = str(raw)
    text = text.translate(_INVISIBLE).strip(" \t\r\n\u3000\xa0")
    return text or None


def canonical(text: str) -> str:
    """The form two texts are compared in: NFKC (（ → (), no whitespace at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and clean_text(raw) is None)


def number(raw: object, unit: str = "") -> Decimal:
    """A number in the field's `unit`; a unit typed after it is converted (元 → 万元 ÷ 10000)."""
    if isinstance(raw, bool):
        raise Refused("read.number", f"应填写数字，填写的是 {'TRUE' if raw else 'FALSE'}")
    if isinstance(raw, int):
        return _in_range(Decimal(raw), raw)
    if isinstance(raw, float):
        return _in_range(Decimal(format(raw, ".15g")), raw)
    if isinstance(raw, datetime | date):
        raise Refused(
            "read.number",
            f"应填写数字，该单元格被 Excel 识别成了日期（{clean_text(raw)}）；"
            "请把单元格格式改为“数值”后重新填写",
        )
    text = halfwidth(str(raw)).strip()
    m = _NUMBER.match(text)
    if not m or not (m["int"] or m["frac"]):
        if re.match(r"^[+-]?\d+(,\d+)+(\.\d+)?", text):
            raise Refused(
                "read.thousands",
                f"“{raw}”中的逗号不是千位分隔（无法确定数值）；请直接填写数字，如 1234.5",
            )
        raise Refused("read.number", f"应填写数字{_in(unit)}，填写的是“{raw}”")
    value = Decimal(m["sign"] + (m["int"] or "0").replace(",", "") + (m["frac"] or ""))
    typed = m["unit"]
    if typed and typed != unit:
        factor = UNIT_FACTORS.get(unit, {}).get(typed)
        if factor is None:
            raise Refused(
                "read.unit", f"单位应为{unit or '纯数字'}，填写的是“{raw}”；请只填写数字{_in(unit)}"
            )
        value *= factor
    return _in_range(value, raw)


def _in_range(value: Decimal, raw: object) -> Decimal:
    if not value.is_finite() or abs(value) >= TOO_LARGE:
        raise Refused(
            "read.number_out_of_range", f"数值过大（{clean_text(raw)}），请核对单位和位数"
        )
    return value


def _in(unit: str) -> str:
    return f"（单位：{unit}）" if unit else ""


def money(raw: object, unit: str = "万元") -> Decimal:
    """Money in the field's unit, exact to the cent; anything finer is refused, never rounded."""
    value = number(raw, unit)
    if value != value.quantize(CENT):
        raise Refused(
            "read.money_precision",
            f"折合 {_plain(value)} {unit}，超过两位小数；请以{unit}为单位填写并保留两位小数",
        )
    return value.quantize(CENT)


def count(raw: object, unit: str = "") -> int | Decimal:
    """A count; a fraction is returned as it is (the suite rejects it as not an integer)."""
    value = number(raw, unit)
    return int(value) if value == value.to_integral_value() else value


def percent(raw: object) -> Decimal:
    """A percentage on the 0–100 scale, two decimals. "75%" and 75 are 75; a plain number
    between 0 and 1 (0.75, or a cell formatted as %) is a fraction, 75. A plain 1 is refused."""
    if isinstance(raw, str) and halfwidth(raw).strip().endswith("%"):
        value = number(halfwidth(raw).strip()[:-1])
    else:
        value = number(raw)
        if value == 1:
            raise Refused(
                "read.percent_ambiguous",
                "填写的是 1，无法确定是 1% 还是 100%；100% 请填写 100，1% 请填写“1%”",
            )
        if 0 < value < 1:
            value *= HUNDRED
    # Rates are reported with two decimals; a rate computed by a formula is rounded to them.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def yes_no(raw: object) -> bool:
    """是/否, Y/N, √/×, 1/0, TRUE/FALSE → True/False."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    word = halfwidth(str(raw)).strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise Refused("read.yes_no", f"应填写“是”或“否”，填写的是“{raw}”")


def grade(raw: object) -> str | None:
    """The self-assessed grade; 优秀/良好/中等/较差 are the grades 优/良/中/差."""
    text = clean_text(raw)
    return None if text is None else GRADE_WORDS.get(text, text)


def a_date(raw: object) -> date:
    """A date from a date cell, an Excel serial (1990–2099) or year-first text."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _serial(Decimal(format(raw, ".15g")), raw)
    text = halfwidth(str(raw)).strip()
    m = _YMD.match(text) or _YMD_COMPACT.match(text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise Refused("read.date", f"“{raw}”不是有效日期；请按 2025-01-15 的格式填写") from None
    if _DAY_FIRST.match(text):
        raise Refused(
            "read.date_ambiguous",
            f"“{raw}”无法确定年月日的顺序；请按“年-月-日”填写，如 2025-01-15",
        )
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _serial(Decimal(text), raw)
    raise Refused("read.date", f"应填写日期，填写的是“{raw}”；请按 2025-01-15 的格式填写")


def _serial(value: Decimal, raw: object) -> date:
    compact = _YMD_COMPACT.match(str(value)) if value == value.to_integral_value() else None
    if compact and value > SERIAL_MAX:
        return a_date(str(int(value)))
    if not SERIAL_MIN <= value <= SERIAL_MAX:
        raise Refused(
            "read.date",
            f"“{clean_text(raw)}”不像日期（Excel 日期序号应对应 1990–2099 年）；"
            "请按 2025-01-15 的格式填写",
        )
    return _EXCEL_EPOCH + timedelta(days=int(value))


def period(raw: object, year: int) -> str:
    """报告期: '2024年度' → '2024'; '2024年7月', '2024-07' or the date Excel made of it → '2024-07'."""
    example = f"请从下拉列表选择，如“{year}年度”或“{year}年07月”"
    if isinstance(raw, datetime | date):
        if raw.day != 1:
            raise Refused(
                "read.period", f"应为年度或月份，填写的是日期 {clean_text(raw)}；{example}"
            )
        return f"{raw.year}-{raw.month:02d}"
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        raw = format(raw, ".15g")
    text = re.sub(r"\s+", "", halfwidth(str(raw)))
    if m := _PERIOD_YEAR.match(text):
        return m[1]
    if m := _PERIOD_MONTH.match(text):
        if not 1 <= int(m[2]) <= 12:
            raise Refused("read.period", f"月份应为 1–12，填写的是“{raw}”；{example}")
        return f"{m[1]}-{int(m[2]):02d}"
    raise Refused("read.period", f"应为年度或月份，填写的是“{raw}”；{example}")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
