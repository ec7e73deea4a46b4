"""Reading is isolated and bounded (issue 9, item 1; issue 10, item 1): the guard on raw bytes,
the worker pool that survives a native abort and gives up on a file that takes too long, and
the limits that come from the settings and never fall below the template's own extent."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from guidefund.intake import guard
from guidefund.intake.batch import read_batch
from guidefund.intake.readers import Item, ReaderPool, ReadLimits, read_item, template_extent
from guidefund.reference import Reference
from guidefund.settings import Settings

from .hostile import (
    append_rows,
    edit_sheet,
    far,
    inline,
    million_rows,
    part,
    read_part,
    rezip,
    set_cell,
)
from .quirks import submission_file

# Wide open: what the guard would let through if it trusted every file (so the workers' own
# limits are what stops it).
WIDE = dict(read_max_rows=2_000_000, read_max_columns=20_000, read_max_ratio=100_000,
            read_max_unpacked_mb=4096, read_max_parts=100_000)  # fmt: skip


@pytest.fixture(scope="module")
def good(ref: Reference, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return submission_file(ref, 46, tmp_path_factory.mktemp("good") / "046.xlsx").read_bytes()


def limits_of(ref: Reference, **settings: object) -> ReadLimits:
    return ReadLimits.of(Settings(**settings), ref)  # type: ignore[arg-type]


def item(name: str, data: bytes) -> Item:
    return Item(f"/inbox/{name}", name, data, 1_700_000_000.0)


def test_a_good_submission_passes_the_guard_and_reads_with_no_finding(
    good: bytes, ref: Reference
) -> None:
    assert guard.check(good, limits_of(ref).guard) is None
    sub = read_item(item("046.xlsx", good), ref, limits_of(ref).guard)
    assert (sub.problems, sub.project_no, sub.file_name) == ([], 46, "046.xlsx")


def test_the_limits_come_from_the_settings_but_never_below_the_template(ref: Reference) -> None:
    rows, columns = template_extent(ref)
    assert (rows, columns) == (20, 5)  # 填报说明's lines and the data sheets' B:E
    tight = limits_of(ref, read_max_rows=3, read_max_columns=2)
    assert (tight.guard.rows, tight.guard.columns) == (20, 5)
    wide = limits_of(ref, read_max_rows=500, read_max_columns=40, read_memory_mb=256,
                     read_timeout_s=5, read_max_file_mb=3)  # fmt: skip
    assert (wide.guard.rows, wide.guard.columns, wide.memory, wide.timeout) == (
        500,
        40,
        256 << 20,
        5,
    )
    assert wide.guard.file_bytes == 3 << 20


def test_a_value_in_a_far_cell_is_refused_before_the_reader_sees_it(
    good: bytes, ref: Reference
) -> None:
    refusal = guard.check(edit_sheet(good, "基本信息", far("AA7")), limits_of(ref).guard)
    assert refusal is not None
    assert (refusal.rule, refusal.detail) == ("read.too_large", "基本信息!AA16")
    assert "超出模板范围（最多 200 行、Z 列）" in refusal.message


def test_an_empty_styled_cell_far_away_costs_nothing_and_is_accepted(
    good: bytes, ref: Reference
) -> None:
    styled = edit_sheet(
        good, "基本信息", lambda x: append_rows(x, b'<row r="900"><c r="ZZ900" s="1"/></row>')
    )
    assert guard.check(styled, limits_of(ref).guard) is None


def test_the_fast_scan_and_the_exact_scan_place_cells_alike(good: bytes, ref: Reference) -> None:
    """Cells without r (placed by counting) take the expat path; cells with r the regex
    path; both find the same used range (its far corner: row 30, and column E, where the
    template's requirements stand)."""
    counted = (
        b'<row r="30"><c><v>1</v></c><c><v>1</v></c><c t="inlineStr"><is><t>x</t></is></c></row>'
    )
    addressed = b'<row r="30"><c r="C30" t="inlineStr"><is><t>x</t></is></c></row>'
    limit = replace(limits_of(ref).guard, rows=29)
    for rows in (counted, addressed):
        refusal = guard.check(
            edit_sheet(good, "基本信息", lambda x, r=rows: append_rows(x, r)), limit
        )
        assert refusal is not None and refusal.detail == "基本信息!E30", rows


def test_a_sheet_under_another_name_or_a_merge_hiding_its_range_is_still_bounded(
    good: bytes, ref: Reference
) -> None:
    from .hostile import sheet_named_bin

    limits = limits_of(ref).guard
    renamed = guard.check(sheet_named_bin(good), limits)
    assert renamed is not None and renamed.detail == "基本信息!XFD1048576"
    sneaky = b'<mergeCells count="1"><mergeCell note="a>b" ref="A1:XFD1048576"/></mergeCells>'
    merged = edit_sheet(
        good, "基本信息", lambda x: x.replace(b"</sheetData>", b"</sheetData>" + sneaky)
    )
    refusal = guard.check(merged, limits)
    assert refusal is not None and refusal.detail == "基本信息!A1:XFD1048576"


def test_a_workbook_declaring_entities_is_refused_without_a_traceback(
    good: bytes, ref: Reference, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = part(good, "自评")
    data = rezip(good, {sheet: b'<!DOCTYPE x [<!ENTITY a "b">]>' + read_part(good, sheet)})
    [sub] = [read_item(item("e.xlsx", data), ref, limits_of(ref).guard)]
    assert [(p.rule, p.value) for p in sub.problems] == [("read.entities", sheet)]
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err


def test_read_batch_reads_through_the_guard(tmp_path: Path, good: bytes, ref: Reference) -> None:
    path = tmp_path / "far.xlsx"
    path.write_bytes(edit_sheet(good, "基本信息", far("XFD1048576")))
    [sub] = read_batch([path], ref)
    assert [p.rule for p in sub.problems] == ["read.too_large"]


def test_a_worker_killed_by_an_abort_costs_that_file_only(good: bytes, ref: Reference) -> None:
    """With the guard wide open, calamine asks for ~550 GB for XFD1048576 and aborts: the
    worker dies, the file gets read.crashed with Rust's own reason, the others are read."""
    limits = limits_of(ref, **WIDE)
    bomb = edit_sheet(good, "基本信息", far("XFD1048576"))
    items = [item(f"{i}.xlsx", good) for i in range(5)]
    items.insert(2, item("far.xlsx", bomb))
    with ReaderPool(ref, limits, 2) as pool:
        subs = pool.read(items)
        restarts = pool.restarts
    assert [s.file_name for s in subs] == [i.name for i in items]
    crashed = subs[2].problems
    assert [(p.rule, p.value) for p in crashed] == [
        ("read.crashed", "memory allocation of 549722259456 bytes failed")
    ]
    assert "读取程序异常终止（信号 SIGABRT）" in crashed[0].message
    assert all(s.problems == [] and s.project_no == 46 for i, s in enumerate(subs) if i != 2)
    assert restarts == 1


def test_a_file_that_takes_too_long_is_given_up_and_the_rest_are_read(
    good: bytes, ref: Reference
) -> None:
    limits = replace(limits_of(ref, **WIDE), timeout=0.5)
    slow = edit_sheet(good, "基本信息", lambda x: append_rows(x, million_rows()))
    items = [item("a.xlsx", good), item("slow.xlsx", slow), item("b.xlsx", good)]
    started = time.monotonic()
    with ReaderPool(ref, limits, 1) as pool:
        subs = pool.read(items)
    assert time.monotonic() - started < 60
    assert [(s.file_name, [p.rule for p in s.problems]) for s in subs] == [
        ("a.xlsx", []),
        ("slow.xlsx", ["read.timeout"]),
        ("b.xlsx", []),
    ]
    assert "超过 0.5 秒" in subs[1].problems[0].message


def test_the_workers_return_what_reading_in_process_returns(good: bytes, ref: Reference) -> None:
    odd = edit_sheet(good, "资金情况", lambda x: set_cell(x, "C5", inline("12万"), "inlineStr"))
    items = [item("a.xlsx", good), item("b.xlsx", odd), item("c.xlsx", b"%PDF-1.4")]
    limits = limits_of(ref)
    with ReaderPool(ref, limits, 2) as pool:
        pooled = pool.read(items)
    here = [read_item(i, ref, limits.guard) for i in items]
    assert pooled == here
    assert [p.rule for p in here[2].problems] == ["read.not_workbook"]


def test_text_limits_match_the_warehouse_columns() -> None:
    """A text the warehouse cannot store is a finding when read, never a failed load."""
    from guidefund.intake.workbook import TEXT_LIMITS
    from guidefund.warehouse import models as m

    columns = {**{c.name: c for t in (m.SelfEvaluation, m.IndicatorContribution, m.FundExecution)
                  for c in t.__table__.columns}, "template_version": m.Submission.__table__.c.template_version}  # fmt: skip
    assert {key: columns[key].type.length for key in TEXT_LIMITS} == TEXT_LIMITS
