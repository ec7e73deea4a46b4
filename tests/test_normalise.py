"""The normalisers: what a unit clearly meant is read exactly; what is ambiguous is refused.

Property tests (hypothesis) write a value the way units do (full-width, with separators, with a
unit, with spaces, as a fraction) and check it reads back as the value itself.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from guidefund.intake import normalise as nz

# Nothing in the repository: no example database, and Hypothesis's caches (Unicode tables, the
# source constants its pytest plugin collects before any fixture runs) go to a temporary
# directory, then under tmp_path while the tests run (the fixture below removes both).
settings.register_profile("guidefund", database=None)
settings.load_profile("guidefund")
_COLLECTION_HOME = Path(tempfile.mkdtemp(prefix="guidefund-hypothesis-"))
set_hypothesis_home_dir(_COLLECTION_HOME)

FULL = str.maketrans("0123456789.,-%/", "０１２３４５６７８９．，－％／")
SPACES = st.sampled_from(["", " ", "  ", "\u3000", "\xa0", "\t"])
# Money as units fill it: up to 10^9 万元, cents.
MONEY = st.decimals(
    min_value=0, max_value=Decimal("999999999.99"), places=2, allow_nan=False, allow_infinity=False
)
COUNTS = st.integers(min_value=0, max_value=10**7)
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))


@pytest.fixture(scope="module", autouse=True)
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory):
    """Hypothesis caches Unicode tables and source constants on disk: there, not in the repo."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)
    shutil.rmtree(_COLLECTION_HOME, ignore_errors=True)


def full_width(text: str) -> str:
    return text.translate(FULL)


@given(MONEY, st.booleans(), SPACES, SPACES)
def test_money_reads_back_with_separators_full_width_and_spaces(
    value: Decimal, wide: bool, before: str, after: str
) -> None:
    typed = f"{value:,}"
    typed = before + (full_width(typed) if wide else typed) + after
    assert nz.money(typed) == value


@given(MONEY, st.sampled_from(["万元", "万", " 万元", "万元 "]), st.booleans())
def test_money_typed_with_its_unit_is_the_number(value: Decimal, unit: str, wide: bool) -> None:
    typed = f"{value}{unit}"
    assert nz.money(full_width(typed) if wide else typed) == value


@given(MONEY)
def test_money_in_yuan_is_converted_to_wan_yuan(value: Decimal) -> None:
    yuan = (value * 10000).quantize(Decimal(1))
    assert nz.money(f"{yuan:,}元") == value


@given(st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False).filter(
    lambda d: d != d.quantize(Decimal("0.01"))
))  # fmt: skip
def test_money_finer_than_a_cent_is_refused_not_rounded(value: Decimal) -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.money(str(value))
    assert refused.value.rule == "read.money_precision"


@given(st.floats(min_value=0, max_value=9e8, allow_nan=False).map(lambda f: round(f, 2)))
def test_a_float_cell_is_read_at_excels_15_digits(value: float) -> None:
    assert nz.money(value) == Decimal(format(value, ".15g")).quantize(Decimal("0.01"))


@pytest.mark.parametrize("typed", [1e9, 3e9, "99999999999", "1,000,000,000人次", float("inf")])
def test_a_number_too_large_to_be_real_or_stored_is_refused(typed: object) -> None:
    """A count above 2^31 would break the PostgreSQL load of the whole batch."""
    with pytest.raises(nz.Refused) as refused:
        nz.count(typed, "人次")
    assert refused.value.rule == "read.number_out_of_range"


def test_scientific_notation_is_not_a_number_a_unit_types() -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.number("1e400")
    assert refused.value.rule == "read.number"


def test_a_formula_float_error_is_what_excel_shows() -> None:
    assert nz.money(0.1 + 0.2) == Decimal("0.30")
    assert nz.money(8314.25) == Decimal("8314.25")


@given(COUNTS, st.sampled_from([("项", "项"), ("个", "项"), ("人次", "人次"), ("人", "人次"),
                                ("家", "家"), ("个", "家"), ("", "项")]), SPACES)  # fmt: skip
def test_counts_typed_with_their_unit_are_the_number(
    n: int, typed_and_field: tuple[str, str], space: str
) -> None:
    typed, field = typed_and_field
    assert nz.count(f"{n:,}{space}{typed}", field) == n


def test_a_count_in_another_unit_is_refused() -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.count("5家", "项")
    assert refused.value.rule == "read.unit"
    assert str(refused.value) == "单位应为项，填写的是“5家”；请只填写数字（单位：项）"


def test_a_fractional_count_is_kept_for_the_suite_to_reject() -> None:
    assert nz.count("2.5", "项") == Decimal("2.5")
    assert nz.count(3.0, "项") == 3 and isinstance(nz.count(3.0, "项"), int)


@pytest.mark.parametrize("typed", ["1,23", "12,3456", "1，23"])
def test_a_comma_that_does_not_group_thousands_is_refused(typed: str) -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.number(typed)
    assert refused.value.rule == "read.thousands"


@given(st.decimals(min_value=0, max_value=100, places=2).filter(lambda d: d != 1), st.booleans())
def test_a_percentage_typed_with_a_percent_sign_or_as_a_number_is_itself(
    pct: Decimal, wide: bool
) -> None:
    typed = f"{pct}%"
    assert nz.percent(full_width(typed) if wide else typed) == pct
    if pct > 1 or pct == 0:
        assert nz.percent(float(pct)) == pct


@given(st.integers(min_value=1, max_value=9999).filter(lambda n: n != 100))
def test_a_fraction_below_one_is_a_percentage(basis_points: int) -> None:
    fraction = basis_points / 10000  # what a cell formatted as % holds
    assert nz.percent(fraction) == Decimal(basis_points) / 100


@pytest.mark.parametrize("typed", [1, 1.0, "1", "１", " 1 "])
def test_a_plain_one_as_a_percentage_is_refused_as_ambiguous(typed: object) -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.percent(typed)
    assert refused.value.rule == "read.percent_ambiguous"


def test_one_percent_and_one_hundred_percent_are_read_when_written_unambiguously() -> None:
    assert (nz.percent("1%"), nz.percent(100), nz.percent("100%")) == (1, 100, 100)


def test_a_computed_rate_is_rounded_to_two_decimals() -> None:
    assert nz.percent(4203 / 4906) == Decimal("85.67")


YES = ["是", "Y", "y", "yes", "YES", "√", "✓", "1", "TRUE", "true", "Ｙ"]
NO = ["否", "N", "n", "no", "×", "✗", "0", "FALSE", "false", "Ｎ"]


@given(st.sampled_from(YES), SPACES, SPACES)
def test_every_way_of_saying_yes_is_true(word: str, before: str, after: str) -> None:
    assert nz.yes_no(before + word + after) is True


@given(st.sampled_from(NO), SPACES, SPACES)
def test_every_way_of_saying_no_is_false(word: str, before: str, after: str) -> None:
    assert nz.yes_no(before + word + after) is False


@pytest.mark.parametrize(("cell", "meant"), [(True, True), (False, False), (1.0, True), (0, False)])
def test_excel_booleans_and_numbers_are_yes_or_no(cell: object, meant: bool) -> None:
    assert nz.yes_no(cell) is meant


@pytest.mark.parametrize("typed", ["有", "可能", "2", "是否"])
def test_anything_else_is_not_yes_or_no(typed: str) -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.yes_no(typed)
    assert refused.value.rule == "read.yes_no"


@given(st.text(alphabet=st.characters(categories=["Lo", "Nd"]), min_size=1, max_size=20), SPACES,
       SPACES)  # fmt: skip
def test_text_loses_only_its_stray_spaces(text: str, before: str, after: str) -> None:
    assert nz.clean_text(before + text + after) == text


def test_a_phone_number_typed_as_a_number_reads_as_excel_shows_it() -> None:
    assert nz.clean_text(13912345678.0) == "13912345678"
    assert nz.clean_text("   ") is None


@given(DATES)
def test_an_excel_serial_is_its_date(day: date) -> None:
    serial = (day - date(1899, 12, 30)).days
    assert nz.a_date(serial) == day
    assert nz.a_date(float(serial) + 0.5) == day  # a time of day does not move the date


@given(DATES, st.sampled_from(["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m}.{d}",
                               "{y}年{m}月{d}日", "{y}{m:02d}{d:02d}", "{y}-{m:02d}-{d:02d} 00:00:00"]),
       st.booleans())  # fmt: skip
def test_a_year_first_text_date_is_its_date(day: date, form: str, wide: bool) -> None:
    typed = form.format(y=day.year, m=day.month, d=day.day)
    assert nz.a_date(full_width(typed) if wide else typed) == day


def test_a_date_cell_is_its_date() -> None:
    assert nz.a_date(datetime(2025, 1, 15, 9, 30)) == date(2025, 1, 15)


@pytest.mark.parametrize("typed", ["01/02/2025", "15/01/2025", "1-2-25"])
def test_a_day_or_month_first_date_is_refused_as_ambiguous(typed: str) -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.a_date(typed)
    assert refused.value.rule == "read.date_ambiguous"


@pytest.mark.parametrize("typed", [2025, 5, "2025-02-30", "明天"])
def test_what_is_not_a_date_is_refused(typed: object) -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.a_date(typed)
    assert refused.value.rule == "read.date"


@given(st.integers(min_value=2000, max_value=2099), st.integers(min_value=1, max_value=12))
def test_a_month_period_reads_in_every_form(year: int, month: int) -> None:
    expected = f"{year}-{month:02d}"
    for typed in (f"{year}年{month}月", f"{year}年{month:02d}月", f"{year}-{month:02d}",
                  f"{year}/{month}", f" {year} 年 {month} 月份 ", datetime(year, month, 1)):  # fmt: skip
        assert nz.period(typed, year) == expected


@pytest.mark.parametrize("typed", ["2024年度", "2024", "2024年", 2024.0, "２０２４年度"])
def test_the_annual_period_reads_as_the_year(typed: object) -> None:
    assert nz.period(typed, 2024) == "2024"


@pytest.mark.parametrize("typed", ["2024年13月", "七月", datetime(2024, 7, 15), "202407"])
def test_a_period_that_is_not_a_year_or_month_is_refused(typed: object) -> None:
    with pytest.raises(nz.Refused) as refused:
        nz.period(typed, 2024)
    assert refused.value.rule == "read.period"


@pytest.mark.parametrize(
    ("typed", "grade"), [("优秀", "优"), (" 良 ", "良"), ("中等", "中"), ("甲", "甲")]
)
def test_grade_words_are_the_grades(typed: str, grade: str) -> None:
    assert nz.grade(typed) == grade


def test_names_compare_regardless_of_full_width_brackets_and_spaces() -> None:
    assert nz.canonical("中国石油大学(北京) 克拉玛依校区") == nz.canonical(
        "中国石油大学（北京）克拉玛依校区"
    )
