"""Exact numbers: Decimal rounding as the reports round (half-up), as people write them, and as
JSON carries them. Money is summed and compared as Decimal everywhere; these are the only ways
a number leaves that form."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDRED = Decimal(100)


def rounded(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def plain(value: Decimal | None) -> str:
    """A Decimal as the report writes it: 100.00 → '100', 74.850 → '74.85', None → ''."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def as_decimal(value: object) -> Decimal | None:
    """A stored or typed number as Decimal: Decimal, int and bool (是 counts 1) as they are, text
    such as '1,234.5' parsed; None for anything else (empty, words, float NaN)."""
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str) and value.strip():
        try:
            return Decimal(value.replace(",", "").strip())
        except InvalidOperation:
            return None
    return None


def json_number(value: Decimal) -> int | float | str:
    """A Decimal for JSON output, exactly: an int, or a float whose shortest repr prints the same
    digits (true of every 2-place amount below 10^13), else the exact digits as a string.

    Money stays Decimal everywhere it is summed or compared; this is only the last step of writing
    it out, checked so that no reader of the JSON gets a different number than the warehouse holds.
    """
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else format(value, "f")


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: object) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders the numbers inside text as numbers: 项目2 before 项目10 before
    项目108 (a plain string sort gives 1, 108, 109, 11, ...)."""
    parts = _DIGITS.split(str(text))
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in parts if p)


def number_ranges(numbers: Iterable[int]) -> str:
    """[1, 2, 3, 5, 7, 8] → '1–3、5、7–8'."""
    spans: list[list[int]] = []
    for n in sorted(set(numbers)):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return "、".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)
