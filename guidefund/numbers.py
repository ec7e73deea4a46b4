"""Exact numbers: Decimal rounding as the reports round (half-up), as people write them, and as
JSON carries them. Money is summed and compared as Decimal everywhere; these are the only ways
a number leaves that form."""

from __future__ import annotations

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
