"""Money leaves as JSON with exactly the digits the warehouse holds."""

from __future__ import annotations

import json
from decimal import Decimal

from guidefund.numbers import json_number


def test_whole_amounts_are_integers() -> None:
    assert json_number(Decimal("11087.00")) == 11087
    assert isinstance(json_number(Decimal("11087.00")), int)


def test_two_place_amounts_print_the_same_digits() -> None:
    assert (
        json.dumps([json_number(Decimal("8314.25")), json_number(Decimal("0.10"))])
        == "[8314.25, 0.1]"
    )


def test_digits_no_float_can_carry_stay_exact_as_text() -> None:
    assert json_number(Decimal("12345678901234567.89")) == "12345678901234567.89"
