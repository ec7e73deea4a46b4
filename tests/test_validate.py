"""The gates: what a unit is told, where, for which file, and how hard (critical or warning).

Submissions are built from literal values for real plan projects of the 2024 reference; every
batch goes through one GX run per suite on the one process-wide, quiet context.
"""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from guidefund.expectations import (
    CONSOLIDATED_SUITE,
    PLAN_SUITE,
    SUBMISSION_SUITE,
    WARNING_SUITE,
    DocsRun,
    _stored,
    load_suite,
    suite_data,
)
from guidefund.expectations.runner import build_data_docs, suite_names_in
from guidefund.intake.outliers import Thresholds, previous_figures
from guidefund.intake.template import prefill
from guidefund.intake.validate import (
    PLAN_ATTRS,
    placeholders,
    plan_frame,
    quiet_gx_context,
    submission_frame,
    validate_consolidated,
    validate_plan,
    validate_submissions,
)
from guidefund.records import CRITICAL, WARNING, Finding, Submission
from guidefund.reference import Reference
from tests.quirks import valid_values

SUITES = (SUBMISSION_SUITE, WARNING_SUITE, PLAN_SUITE, CONSOLIDATED_SUITE)


@pytest.fixture(scope="module", autouse=True)
def gx_context() -> Any:
    return quiet_gx_context()


def submission(ref: Reference, no: int, **changes: Any) -> Submission:
    """A valid annual submission for plan project `no`, with `changes` applied to its values."""
    p = ref.project(no)
    assert p is not None
    # The typed values a reader returns for quirks.valid_values: the period normalised.
    values: dict[str, Any] = {
        **prefill(p, ref),
        **valid_values(ref, no),
        "period": str(ref.year),
        "self_raised": Decimal("1060"),
        **changes,
    }
    cells = {f.key: f"{f.sheet}!{f.cell}" for f in ref.fields}
    return Submission(Path(f"2024-{no:03d}.xlsx"), sha256="0" * 64, values=values, cells=cells)


def where(findings: dict[int, list[Finding]]) -> dict[int, list[tuple[str, str, str, str]]]:
    return {k: [(f.rule, f.field, f.sheet, f.cell) for f in v] for k, v in findings.items()}


def plan_rows(ref: Reference, period: str = "2024") -> list[dict[str, Any]]:
    return [
        {"project_no": p.no, "period": period, "category": p.category, "allocation": p.allocation}
        for p in ref.plan
    ]


# ----------------------------------------------------------------------------- the suites


def test_the_factory_fills_every_template_field(ref: Reference) -> None:
    assert set(submission(ref, 46).values) == {f.key for f in ref.fields}


def test_suites_load_with_every_expectation(ref: Reference) -> None:
    for name in SUITES:
        expected = suite_data(name, ref.fields)["expectations"]
        assert len(load_suite(name, fields=ref.fields).expectations) == len(expected)


def test_every_expectation_says_rule_field_message_fix_and_its_severity(ref: Reference) -> None:
    keys = {f.key for f in ref.fields}
    for name in SUITES:
        for e in suite_data(name, ref.fields)["expectations"]:
            meta = e["meta"]
            assert meta["rule"] and meta["message"] and meta["fix"], e
            assert meta["field"] in keys or (meta["field"] == "*" and meta["fields_column"]), e
            assert e["severity"] == name.split(".")[1], e


def test_submission_messages_use_only_known_placeholders(ref: Reference) -> None:
    context = {"label", "value", "unit", "sheet", "cell", "year", "plan", "allowed", "lower",
               "upper"}  # fmt: skip
    warnings = {"threshold", "ratio", "base", "minimum", "comparison"}
    known = {f.key for f in ref.fields} | context | warnings | {f"plan_{k}" for k in PLAN_ATTRS}
    for name in (SUBMISSION_SUITE, WARNING_SUITE):
        spec = suite_data(name)["expectations"] + suite_data(name, ref.fields)["expectations"]
        generate = [g for g in _stored(name)["expectations"] if "generate" in g]
        metas = [e["meta"] for e in spec] + [g["other_bounds"]["meta"] for g in generate]
        for meta in metas:
            used = placeholders(meta["message"]) | placeholders(meta["fix"])
            assert used <= known, meta


def test_the_submission_suite_covers_the_template(ref: Reference) -> None:
    """Required, non-negative and 0–100 rules match template_fields.csv field for field."""
    by_rule: dict[str, dict[str, dict[str, Any]]] = {}
    for e in suite_data(SUBMISSION_SUITE, ref.fields)["expectations"]:
        by_rule.setdefault(e["meta"]["rule"], {})[e["meta"]["field"]] = e["kwargs"]
    assert by_rule["required"] == {"*": {"column": "missing_required"}}
    empty = Submission(Path("empty.xlsx"), "0" * 64)
    frame = submission_frame([empty], ref)
    assert frame.loc[0, "missing_required"].split(",") == [f.key for f in ref.fields if f.required]
    for rule, kind in (("funds_non_negative", "money"), ("counts_non_negative", "int")):
        fields = {f.key: f for f in ref.fields if f.kind == kind and f.key != "project_no"}
        assert set(by_rule[rule]) == set(fields)
        assert all(Decimal(by_rule[rule][k]["min_value"]) == f.lower for k, f in fields.items())
    counts = {f.key for f in ref.fields if f.kind == "int" and f.key != "project_no"}
    assert set(by_rule["counts_integer"]) == counts
    rates = {f.key: f for f in ref.fields if f.kind == "pct"}
    assert set(by_rule["rate_within_0_100"]) == set(rates) == {"capability", "satisfaction"}
    for key, f in rates.items():
        kwargs = by_rule["rate_within_0_100"][key]
        assert (Decimal(kwargs["min_value"]), Decimal(kwargs["max_value"])) == (f.lower, f.upper)


def test_plan_facts_come_from_the_reference_not_the_json() -> None:
    kwargs = {e["meta"]["rule"]: e["kwargs"] for e in suite_data(SUBMISSION_SUITE)["expectations"]}
    assert kwargs["project_in_plan"]["value_set"] == {"$PARAMETER": "plan_project_nos"}
    assert kwargs["template_version_accepted"]["value_set"] == {
        "$PARAMETER": "accepted_template_versions"
    }


def test_the_context_is_quiet_and_shared(gx_context: Any) -> None:
    assert quiet_gx_context() is gx_context
    assert gx_context.config.analytics_enabled is False
    bars = gx_context.variables.progress_bars
    assert (bars.globally, bars.metric_calculations) == (False, False)


# ----------------------------------------------------------------------------- the frame


def test_the_frame_has_one_row_per_submission_with_plan_columns(ref: Reference) -> None:
    subs = [submission(ref, 46), submission(ref, 3, project_no=999)]
    frame = submission_frame(subs, ref)
    assert list(frame["row_key"]) == [0, 1]
    assert list(frame["file"]) == ["2024-046.xlsx", "2024-003.xlsx"]
    assert list(frame["plan_known"]) == [True, False]
    assert frame.loc[0, "plan_allocation"] == 200.0
    assert frame.loc[0, "plan_category"] == "科技创新基地建设"
    assert frame["funds_spent"].dtype == "float64"
    assert frame.loc[0, "direct_allocation"] == 200.0
    assert frame.loc[0, "period_year"] == 2024
    assert (
        frame.loc[:, ["post_funds_spent", "enterprise_self_raised", "outliers"]].isna().all().all()
    )
    assert frame.loc[1, ["plan_project_name", "plan_allocation"]].isna().all()
    assert {f.key for f in ref.fields} <= set(frame.columns)


# ----------------------------------------------------------------------------- submissions


def test_a_clean_batch_has_no_findings(ref: Reference) -> None:
    subs = [submission(ref, no) for no in (1, 46, 92, 136)]
    assert validate_submissions(subs, ref) == {}


def test_an_empty_batch_has_no_findings(ref: Reference) -> None:
    assert validate_submissions([], ref) == {}


def test_negative_spending_is_named_at_its_cell(ref: Reference) -> None:
    sub = submission(ref, 46, funds_spent=Decimal("-5"))
    assert validate_submissions([sub], ref) == {
        0: [
            Finding(
                file="2024-046.xlsx",
                sheet="资金情况",
                cell="C5",
                field="funds_spent",
                label="实际支出",
                value="-5",
                rule="funds_non_negative",
                message="实际支出（-5）不能为负数，请填写 0 或正数（单位：万元）",
                severity=CRITICAL,
            )
        ]
    }


def test_the_cell_comes_from_where_the_reader_found_the_value(ref: Reference) -> None:
    sub = submission(ref, 46, funds_spent=Decimal("-5"))
    sub.cells["funds_spent"] = "资金情况!D5"
    [finding] = validate_submissions([sub], ref)[0]
    assert (finding.sheet, finding.cell) == ("资金情况", "D5")
    del sub.cells["funds_spent"]
    [finding] = validate_submissions([sub], ref)[0]
    assert (finding.sheet, finding.cell) == ("资金情况", "C5")


def test_a_negative_count_is_rejected(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, trained_staff=-3)], ref)
    assert where(findings) == {0: [("counts_non_negative", "trained_staff", "绩效指标", "C10")]}
    assert findings[0][0].message == (
        "培训从事技术创新服务人员（-3）不能为负数，请填写 0 或正整数（单位：人次）"
    )


def test_spending_more_than_received_is_rejected(ref: Reference) -> None:
    sub = submission(ref, 46, funds_received=Decimal("200"), funds_spent=Decimal("250.5"))
    findings = validate_submissions([sub], ref)
    assert where(findings) == {0: [("spent_within_received", "funds_spent", "资金情况", "C5")]}
    assert findings[0][0].value == "250.5"
    assert findings[0][0].message == (
        "实际支出（250.5）不能大于引导资金到位（200），"
        "请核对两项金额，实际支出不得超过截至报告期末到位的引导资金（单位：万元）"
    )


def test_spending_equal_to_received_passes(ref: Reference) -> None:
    sub = submission(ref, 46, funds_received=Decimal("150.25"), funds_spent=Decimal("150.25"))
    assert validate_submissions([sub], ref) == {}


def test_satisfaction_above_100_is_rejected(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, satisfaction=Decimal("120"))], ref)
    assert where(findings) == {0: [("rate_within_0_100", "satisfaction", "绩效指标", "C15")]}
    assert findings[0][0].message == (
        "服务对象满意度（120）超出 0–100 的范围，"
        "请填写 0 到 100 之间的百分数，如 95 表示 95%（单位：%）"
    )


def test_a_project_number_outside_the_plan_is_rejected_once(ref: Reference) -> None:
    """Only project_in_plan speaks: the plan comparisons have nothing to compare with."""
    findings = validate_submissions([submission(ref, 46, project_no=999)], ref)
    assert where(findings) == {0: [("project_in_plan", "project_no", "基本信息", "C5")]}
    assert findings[0][0].message == (
        "项目序号（999）不在 2024 年度资金安排计划中，"
        "请使用为本项目下发的模板，不要修改预填的项目序号"
    )


def test_a_project_name_differing_from_the_plan_is_rejected(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, project_name="地下水突水防治")], ref)
    assert where(findings) == {0: [("matches_plan", "project_name", "基本信息", "C6")]}
    assert findings[0][0].message == (
        "项目名称（地下水突水防治）与计划中序号 46 的项目名称"
        "（新疆基地浅埋煤层多重复杂介质地下水突水防治关键技术及应用）不一致，"
        "这是系统预填内容，请改回计划中的项目名称，或使用为本项目下发的模板"
    )


def test_every_prefilled_plan_field_must_match(ref: Reference) -> None:
    sub = submission(
        ref,
        46,
        unit_name="新疆大学",
        category="科技成果转移转化",
        project_type="结转",
        support_mode="后补助",
        allocation=Decimal("280"),
    )
    assert [f.field for f in validate_submissions([sub], ref)[0]] == [
        "unit_name",
        "category",
        "project_type",
        "support_mode",
        "allocation",
    ]


def test_a_missing_contact_is_rejected(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, contact=None)], ref)
    assert findings == {
        0: [
            Finding(
                file="2024-046.xlsx",
                sheet="基本信息",
                cell="C15",
                field="contact",
                label="联系人",
                value="空",
                rule="required",
                message="联系人为必填项，未填写，请在基本信息工作表 C15 单元格填写后重新报送",
                severity=CRITICAL,
            )
        ]
    }


def test_a_missing_amount_is_only_reported_as_missing(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, funds_received=None)], ref)
    assert where(findings) == {0: [("required", "funds_received", "资金情况", "C4")]}


def test_optional_fields_may_be_empty(ref: Reference) -> None:
    assert validate_submissions([submission(ref, 46, phone=None, deviation_reason=None)], ref) == {}


def test_a_grade_outside_the_list_is_rejected(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, self_grade="甲")], ref)
    assert where(findings) == {0: [("grade_in_set", "self_grade", "自评", "C4")]}
    assert findings[0][0].message == (
        "自评等级（甲）不是有效的等级，请从下拉列表选择 优、良、中、差 之一"
    )


def test_an_unknown_template_version_is_rejected(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, template_version="GF-2023.1")], ref)
    assert where(findings) == {
        0: [("template_version_accepted", "template_version", "基本信息", "C4")]
    }
    assert findings[0][0].message == (
        "模板版本（GF-2023.1）不是本年度接受的模板版本，请下载当前模板（GF-2024.1）重新填写后报送"
    )


def test_one_bad_row_in_three_is_mapped_to_that_row(ref: Reference) -> None:
    subs = [
        submission(ref, 1),
        submission(ref, 46, funds_spent=Decimal("-5")),
        submission(ref, 92),
    ]
    findings = validate_submissions(subs, ref)
    assert list(findings) == [1]
    assert [(f.file, f.rule, f.field) for f in findings[1]] == [
        ("2024-046.xlsx", "funds_non_negative", "funds_spent")
    ]


def test_every_failing_row_and_problem_is_reported_in_template_order(ref: Reference) -> None:
    subs = [submission(ref, no) for no in range(1, 21)]
    subs[4] = submission(ref, 5, satisfaction=Decimal("-1"), contact=None)
    subs[17] = submission(ref, 18, self_grade="A", funds_spent=Decimal("-1"))
    assert where(validate_submissions(subs, ref)) == {
        4: [
            ("required", "contact", "基本信息", "C15"),
            ("rate_within_0_100", "satisfaction", "绩效指标", "C15"),
        ],
        17: [
            ("funds_non_negative", "funds_spent", "资金情况", "C5"),
            ("grade_in_set", "self_grade", "自评", "C4"),
        ],
    }


def test_every_failing_row_is_mapped_back_beyond_the_partial_list(ref: Reference) -> None:
    """GX's partial lists stop at 20 rows; the complete index list must not."""
    subs = [
        submission(ref, p.no, funds_spent=Decimal("-1")) if p.no % 4 == 0 else submission(ref, p.no)
        for p in ref.plan
    ]
    found = validate_submissions(subs, ref)
    findings = {k: fs for k, v in found.items() if (fs := [f for f in v if f.severity == CRITICAL])}
    assert list(findings) == [i for i, p in enumerate(ref.plan) if p.no % 4 == 0]
    assert len(findings) == 34
    assert {f.file for fs in findings.values() for f in fs} == {
        f"2024-{p.no:03d}.xlsx" for p in ref.plan if p.no % 4 == 0
    }


def test_validation_opens_no_network_connection(ref: Reference, monkeypatch: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access during validation")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert validate_submissions([submission(ref, 46, self_grade="甲")], ref) != {}
    assert validate_consolidated(plan_rows(ref), ref) == []


# ----------------------------------------------------------------------------- consolidated


def test_the_full_plan_consolidates_to_every_direction_budget(ref: Reference) -> None:
    assert len(ref.plan) == 136
    assert validate_consolidated(plan_rows(ref), ref) == []


def test_a_missing_project_fails_its_direction_and_the_total(ref: Reference) -> None:
    rows = [r for r in plan_rows(ref) if r["project_no"] != 46]
    findings = validate_consolidated(rows, ref)
    assert findings[0] == Finding(
        file="汇总",
        sheet="",
        cell="",
        field="allocation",
        label="科技创新基地建设（2024）安排资金",
        value="5124",
        rule="direction_allocation_equals_budget",
        message=(
            "科技创新基地建设（报告期 2024）已接受报送的安排资金合计 5124 万元，"
            "与计划预算 5324 万元不符，请核对该方向的报送：缺少序号 46 的报送"
        ),
        severity=CRITICAL,
    )
    assert [(f.rule, f.label, f.value) for f in findings[1:]] == [
        ("direction_allocation_equals_budget", "合计（2024）安排资金", "10887"),
    ]


def test_a_missing_project_without_allocation_is_caught_by_the_kind_counts(ref: Reference) -> None:
    """Project 58 is 后补助 with 0 万元 in 2024: the sums cannot notice it is missing."""
    findings = validate_consolidated([r for r in plan_rows(ref) if r["project_no"] != 58], ref)
    assert [(f.rule, f.label, f.value) for f in findings] == [
        ("kind_counts_equal_plan", "科技创新基地建设（2024）支持方式", "8"),
        ("kind_counts_equal_plan", "合计（2024）支持方式", "23"),
    ]
    assert findings[0].message == (
        "科技创新基地建设（报告期 2024）当前报送中新上后补助项目 8 个，计划为 9 个，"
        "请核对该方向的报送：缺少序号 58 的报送"
    )


def test_a_second_current_submission_for_a_project_and_period_fails(ref: Reference) -> None:
    rows = plan_rows(ref)
    rows.append(dict(rows[45]))
    findings = validate_consolidated(rows, ref)
    assert [(f.rule, f.label, f.value) for f in findings] == [
        ("direction_allocation_equals_budget", "科技创新基地建设（2024）安排资金", "5524"),
        ("one_current_per_project_period", "科技创新基地建设（2024）项目序号", "序号 46（2 份）"),
        ("direction_allocation_equals_budget", "合计（2024）安排资金", "11287"),
        ("one_current_per_project_period", "合计（2024）项目序号", "序号 46（2 份）"),
    ]


def test_each_period_is_consolidated_on_its_own(ref: Reference) -> None:
    """A month is compared with the plan of the projects that reported for it: July without
    project 3 is sound (its missing report is an alert, not a wrong total), while the annual
    period missing project 3 is short of the annual budget by its 279 万元."""
    july = [r for r in plan_rows(ref, "2024-07") if r["project_no"] != 3]
    assert validate_consolidated(plan_rows(ref) + july, ref) == []
    annual = [r for r in plan_rows(ref) if r["project_no"] != 3]
    findings = validate_consolidated(annual + plan_rows(ref, "2024-07"), ref)
    assert [(f.rule, f.label, f.value) for f in findings] == [
        ("direction_allocation_equals_budget", "区域科技创新体系建设（2024）安排资金", "576"),
        ("direction_allocation_equals_budget", "合计（2024）安排资金", "10808"),
    ]


def test_a_month_is_compared_with_what_was_reported_for_it(ref: Reference) -> None:
    """Twenty projects report June, one of them (4) stating 30 万元 more than its plan: only
    that direction and the total differ, by those 30 万元, not by the unreported projects."""
    june = [r for r in plan_rows(ref, "2024-06") if r["project_no"] <= 20]
    june[3] = {**june[3], "allocation": june[3]["allocation"] + 30}
    findings = validate_consolidated(june, ref)
    reported = sum(p.allocation for p in ref.plan if p.no <= 20)
    direction = sum(
        p.allocation for p in ref.plan if p.no <= 20 and p.category == ref.plan[3].category
    )
    assert [(f.rule, f.label, f.value) for f in findings] == [
        ("direction_allocation_equals_budget", f"{ref.plan[3].category}（2024-06）安排资金",
         str(direction + 30)),
        ("direction_allocation_equals_budget", "合计（2024-06）安排资金", str(reported + 30)),
    ]  # fmt: skip


def test_an_empty_set_fails_every_direction_and_the_total(ref: Reference) -> None:
    findings = validate_consolidated([], ref)
    allocation = [f.label for f in findings if f.rule == "direction_allocation_equals_budget"]
    assert allocation == [f"{cat}（2024）安排资金" for cat in [*ref.budget, "合计"]]
    assert [f for f in findings if f.rule == "kind_counts_equal_plan"] == []


# ----------------------------------------------------------------------------- more critical rules


def test_a_fractional_count_is_rejected_as_not_an_integer(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, achievements=Decimal("2.5"))], ref)
    assert where(findings) == {0: [("counts_integer", "achievements", "绩效指标", "C4")]}
    assert findings[0][0].message == "转化科技成果数量（2.5）不是整数，数量请填写整数（单位：项）"


def test_direct_support_received_above_the_allocation_is_rejected(ref: Reference) -> None:
    sub = submission(ref, 46, funds_received=Decimal("200.01"), funds_on_time=Decimal("200.01"))
    findings = validate_submissions([sub], ref)
    assert where(findings) == {
        0: [("received_within_allocation", "funds_received", "资金情况", "C4")]
    }
    assert findings[0][0].message == (
        "引导资金到位（200.01）大于本项目安排资金（200），"
        "直接补助项目到位的引导资金不得超过安排资金，请核对到位金额（单位：万元）"
    )


def test_post_support_funds_received_are_not_capped_by_the_allocation(ref: Reference) -> None:
    """Project 58 is 后补助 with no 2024 allocation: its funds arrive after evaluation."""
    sub = submission(ref, 58, funds_received=Decimal("50"), funds_spent=Decimal("0"))
    assert validate_submissions([sub], ref) == {}


def test_a_period_outside_the_plan_year_is_rejected(ref: Reference) -> None:
    findings = validate_submissions([submission(ref, 46, period="2023-12")], ref)
    assert where(findings) == {0: [("period_in_plan_year", "period", "基本信息", "C13")]}
    assert findings[0][0].message == (
        "报告期（2023-12）不在 2024 年度内，请选择“2024年度”或 2024 年的某个月份"
    )


def test_prefilled_names_compare_without_bracket_width_or_spaces(ref: Reference) -> None:
    """Project 8's name is printed with full-width brackets: 超薄柔性玻璃（UTG）下拉成型…"""
    sub = submission(ref, 8)
    typed = str(sub.values["project_name"]).replace("（", "(").replace("）", ")") + " "
    sub.values["project_name"] = typed
    assert typed != ref.project(8).name  # type: ignore[union-attr]
    assert validate_submissions([sub], ref) == {}


def test_a_value_the_reader_refused_is_not_reported_again_by_the_suite(ref: Reference) -> None:
    refused = Finding("2024-046.xlsx", "资金情况", "C5", "funds_spent", "实际支出", "abc",
                      "read.number", "实际支出应填写数字", CRITICAL)  # fmt: skip
    sub = submission(ref, 46, funds_spent=None)
    sub.problems.append(refused)
    assert validate_submissions([sub], ref) == {0: [refused]}


def test_a_file_of_another_template_is_not_run_through_the_suites(ref: Reference) -> None:
    wrong = Finding("2024-046.xlsx", "基本信息", "C4", "template_version", "模板版本", "GF-2023.1",
                    "template_version_accepted", "…", CRITICAL)  # fmt: skip
    sub = Submission(Path("2024-046.xlsx"), "0" * 64, values={"template_version": "GF-2023.1"})
    sub.problems.append(wrong)
    assert validate_submissions([sub, submission(ref, 1)], ref) == {0: [wrong]}


# ----------------------------------------------------------------------------- warnings


def test_post_support_spending_is_a_warning_not_a_rejection(ref: Reference) -> None:
    sub = submission(ref, 58, funds_received=Decimal("20"), funds_spent=Decimal("12.5"))
    [finding] = validate_submissions([sub], ref)[0]
    assert (finding.rule, finding.severity, finding.sheet, finding.cell) == (
        "post_support_spending", WARNING, "资金情况", "C5"
    )  # fmt: skip
    assert finding.message == (
        "本项目为后补助项目，报告期内不应有引导资金支出，实际支出填写的是 12.5 万元，"
        "后补助资金在绩效评估后拨付，请核对；如确有支出，请在“偏差原因及改进措施”中说明"
    )


def test_an_enterprise_raising_less_than_twice_its_guidance_funds_is_warned(ref: Reference) -> None:
    """Project 27 (a company, 结转, 90 万元): 自筹 must be at least 2 × 90 (seed 二(二)2(2))."""
    low = submission(ref, 27, self_raised=Decimal("179.99"))
    enough = submission(ref, 27, self_raised=Decimal("180"))
    assert validate_submissions([enough], ref) == {}
    [finding] = validate_submissions([low], ref)[0]
    assert (finding.rule, finding.field, finding.severity) == (
        "enterprise_self_raised_ratio", "self_raised", WARNING
    )  # fmt: skip
    assert finding.message == (
        "企业承担的项目自筹及带动社会投入（179.99 万元）低于引导资金（90 万元）的 2 倍（180 万元），"
        "企业项目自筹研发投入与引导资金之比应不低于 2:1（自评报告二(二)2(2)），请核对金额或说明原因"
    )


def test_a_research_institute_is_not_held_to_the_enterprise_ratio(ref: Reference) -> None:
    assert validate_submissions([submission(ref, 46, self_raised=Decimal("0"))], ref) == {}


def test_the_plans_direct_support_project_without_allocation_is_warned(ref: Reference) -> None:
    [finding] = validate_submissions([submission(ref, 45)], ref)[0]
    assert (finding.rule, finding.field, finding.cell, finding.severity) == (
        "direct_support_zero_allocation", "allocation", "C12", WARNING
    )  # fmt: skip


@pytest.mark.parametrize(("satisfaction", "warned"), [("79.99", True), ("80", False)])
def test_satisfaction_below_the_setting_is_warned(
    ref: Reference, satisfaction: str, warned: bool
) -> None:
    found = validate_submissions([submission(ref, 46, satisfaction=Decimal(satisfaction))], ref)
    assert [f.rule for f in found.get(0, [])] == (["satisfaction_low"] if warned else [])


def test_the_satisfaction_threshold_comes_from_the_settings(ref: Reference) -> None:
    strict = Thresholds(Decimal("96"), Decimal("10"))
    [finding] = validate_submissions([submission(ref, 46)], ref, strict)[0]
    assert finding.message == (
        "服务对象满意度（95%）低于 96%，请核对满意度调查结果，并在“偏差原因及改进措施”中说明"
    )


def test_a_figure_far_from_its_directions_median_is_warned_as_a_likely_unit_error(
    ref: Reference,
) -> None:
    """Five 科技创新基地建设 projects; one typed 技术合同成交额 in 元 (125000 for 12.5 万元)."""
    subs = [submission(ref, no) for no in (46, 47, 48, 49, 50)]
    subs[2].values["contract_value"] = Decimal("125000")
    found = validate_submissions(subs, ref)
    assert list(found) == [2]
    [finding] = found[2]
    assert (finding.rule, finding.field, finding.sheet, finding.cell, finding.severity) == (
        "indicator_outlier", "contract_value", "绩效指标", "C9", WARNING
    )  # fmt: skip
    assert finding.message == (
        "技术合同成交额（125000 万元）是本方向本批 5 份报送的中位数（12.5 万元）的 10000 倍，"
        "可能填错了单位（如把元当作万元）或多填了位数，请核对；如数值无误，无需修改"
    )


def test_fewer_peers_than_the_rule_asks_give_no_median(ref: Reference) -> None:
    subs = [submission(ref, no) for no in (46, 47, 48, 49)]
    subs[2].values["contract_value"] = Decimal("125000")
    assert validate_submissions(subs, ref) == {}


def test_a_figure_far_from_the_projects_own_history_is_warned(ref: Reference) -> None:
    now = submission(ref, 46, trained_staff=4)
    history = {0: {"project_no": 46, "period": "2024-07", "trained_staff": 400}}
    [finding] = validate_submissions([now], ref, history=history)[0]
    assert (finding.rule, finding.field) == ("indicator_outlier", "trained_staff")
    assert finding.message.startswith(
        "培训从事技术创新服务人员（4 人次）只有本项目上次报送（报告期 2024-07）（400 人次）的 1/100"
    )


def test_the_outlier_factor_comes_from_the_settings(ref: Reference) -> None:
    now = submission(ref, 46, trained_staff=4)
    history = {0: {"project_no": 46, "period": "2024-07", "trained_staff": 400}}
    loose = Thresholds(Decimal("80"), Decimal("101"))
    assert validate_submissions([now], ref, loose, history) == {}


def test_history_is_the_same_period_first_then_the_latest_earlier_one(ref: Reference) -> None:
    rows = [
        {"project_no": 46, "period": "2024-03", "trained_staff": 1},
        {"project_no": 46, "period": "2024-06", "trained_staff": 2},
        {"project_no": 46, "period": "2024", "trained_staff": 3},
        {"project_no": 47, "period": "2024-06", "trained_staff": 4},
    ]
    subs = [submission(ref, 46, period="2024"), submission(ref, 46, period="2024-09"),
            submission(ref, 47, period="2024-03"), submission(ref, 48)]  # fmt: skip
    got = previous_figures(subs, rows)
    assert {i: r["trained_staff"] for i, r in got.items()} == {0: 3, 1: 2, 2: 4}


# ----------------------------------------------------------------------------- plan, runs, docs


def test_the_reference_plan_passes_plan_critical(ref: Reference) -> None:
    frame = plan_frame(ref)
    assert list(frame["category"]) == [*ref.budget, "合计"]
    assert frame.iloc[-1]["allocation"] == Decimal("11087")
    assert validate_plan(ref) == []


def test_a_plan_that_contradicts_its_budget_fails_plan_critical(ref: Reference) -> None:
    plan = list(ref.plan)
    plan[45] = replace(plan[45], allocation=Decimal("210"), support_mode="后补助")
    broken = replace(ref, plan=tuple(plan))
    assert [(f.file, f.rule, f.label, f.value) for f in validate_plan(broken)] == [
        ("plan.csv", "plan_allocation_equals_budget", "科技创新基地建设安排资金", "5334"),
        ("plan.csv", "plan_new_equals_budget", "科技创新基地建设安排资金", "4267"),
        ("plan.csv", "plan_kind_count", "科技创新基地建设支持方式", "19"),
        ("plan.csv", "plan_kind_count", "科技创新基地建设支持方式", "10"),
        ("plan.csv", "plan_allocation_equals_budget", "合计安排资金", "11097"),
        ("plan.csv", "plan_kind_count", "合计支持方式", "63"),
        ("plan.csv", "plan_kind_count", "合计支持方式", "25"),
    ]


def test_a_batch_is_validated_once_per_suite_whatever_its_size(ref: Reference) -> None:
    docs = DocsRun("one-run")
    subs = [submission(ref, p.no) for p in ref.plan]
    validate_submissions(subs, ref, docs=docs)
    assert [name for name, _, _ in docs.results] == [SUBMISSION_SUITE, WARNING_SUITE]


def test_data_docs_show_the_runs_suites_and_results(ref: Reference, tmp_path: Path) -> None:
    docs = DocsRun("nightly-test")
    validate_plan(ref, docs)
    validate_submissions([submission(ref, 45), submission(ref, 46, funds_spent=Decimal("-1"))],
                         ref, docs=docs)  # fmt: skip
    validate_consolidated(plan_rows(ref), ref, docs)
    built = build_data_docs(docs, tmp_path / "data_docs")
    assert built.index == (tmp_path / "data_docs" / "index.html").resolve()
    html = built.index.read_text(encoding="utf-8")
    for name in SUITES:
        assert name in html
    assert suite_names_in(tmp_path / "data_docs") == sorted(SUITES)
    pages = list((tmp_path / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == 4
    critical = next(p for p in pages if "submission/critical" in p.as_posix())
    assert "funds_spent" in critical.read_text(encoding="utf-8")
    # The suite's page lists the expectations generated from template_fields.csv too.
    suite_page = tmp_path / "data_docs" / "expectations" / "submission" / "critical.html"
    assert "satisfaction" in suite_page.read_text(encoding="utf-8")


def test_the_run_has_a_chinese_summary_linking_to_the_details(
    ref: Reference, tmp_path: Path
) -> None:
    """Per suite: passed or not, how many checks, the failed ones by name, a link that leads to
    GX's page of that validation; times in the configured zone."""
    docs = DocsRun("nightly-consolidation-7")
    validate_plan(ref, docs)
    validate_submissions([submission(ref, 46, funds_spent=Decimal("-1"))], ref, docs=docs)
    site = tmp_path / "data_docs"
    built = build_data_docs(docs, site, timezone="Asia/Shanghai")
    assert built.summary.parent == (site / "runs").resolve()
    page = built.summary.read_text(encoding="utf-8")
    assert "<title>校验摘要：nightly-consolidation-7</title>" in page
    assert "（北京时间）" in page and "1 个套件未通过" in page
    assert "填报文件（不通过即退回）<br><small>submission.critical</small>" in page
    assert "<td>金额不能为负</td><td>funds_spent</td><td>1</td>" in page
    links = re.findall(r'href="\.\./(validations/[^"]+)"', page)
    assert len(links) == 3 and all((site / link).is_file() for link in links)
    runs = built.runs.read_text(encoding="utf-8")
    assert f'href="{built.summary.name}">nightly-consolidation-7</a>' in runs
    assert f'href="runs/{built.summary.name}"' in built.index.read_text(encoding="utf-8")


def test_data_docs_load_nothing_from_another_host(ref: Reference, tmp_path: Path) -> None:
    """Government networks have no internet: every page and stylesheet of the site refers only
    to files inside it, and those files are there."""
    from guidefund.expectations.offline import external_references

    docs = DocsRun("offline")
    validate_plan(ref, docs)
    validate_submissions([submission(ref, 46, funds_spent=Decimal("-1"))], ref, docs=docs)
    site = tmp_path / "data_docs"
    build_data_docs(docs, site)
    found = {}
    for path in [*site.rglob("*.html"), *site.rglob("*.css")]:
        text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        if refs := external_references(text):
            found[str(path.relative_to(site))] = refs
    assert found == {}
    index = (site / "index.html").read_text(encoding="utf-8")
    local = re.findall(r'(?:src|href)="(static/[^"]+)"', index)
    assert "static/vendor/bootstrap-table/bootstrap-table.min.js" in local
    assert all((site / name).is_file() for name in local)
    assert not (site / "static/images/glossary_scroller.gif").exists()


def test_every_cdn_address_in_gx_templates_has_a_local_answer() -> None:
    """A GX upgrade that adds a CDN asset must fail here, not quietly go online-only."""
    from importlib.resources import files

    from guidefund.expectations.offline import CDN, GX_SITE, LOGO_HOST

    templates = files("great_expectations") / "render" / "view" / "templates"
    found: set[str] = set()
    for t in templates.iterdir():
        found |= set(re.findall(r"https?://[^\"'\s)]+", t.read_text(encoding="utf-8")))
    unknown = {u for u in found if u not in CDN and not u.startswith((LOGO_HOST, GX_SITE))}
    assert unknown == set()


def test_data_docs_keep_the_newest_runs_and_drop_older_ones(ref: Reference, tmp_path: Path) -> None:
    """`keep` runs stay (GUIDEFUND_DATA_DOCS_KEEP_RUNS, 30 by default): their results, pages and
    summaries; an older run's are removed, and GX's index lists the kept runs."""
    from guidefund.settings import Settings

    assert Settings().data_docs_keep_runs == 30
    site = tmp_path / "data_docs"
    for n in range(1, 5):
        docs = DocsRun(f"run-{n}")
        validate_plan(ref, docs)
        built = build_data_docs(docs, site, keep=3)
    assert built.kept == 3
    kept = sorted(p.name for p in (site / "validations" / "plan" / "critical").iterdir())
    assert kept == ["run-2", "run-3", "run-4"]
    assert len(list((site / "results").rglob("*.json"))) == 3
    assert sorted(p.name.split("-", 1)[1] for p in (site / "runs").glob("*.json")) == [
        "run-2.json", "run-3.json", "run-4.json",
    ]  # fmt: skip
    index = (site / "index.html").read_text(encoding="utf-8")
    assert ("run-1" in index, "run-2" in index, "run-4" in index) == (False, True, True)
    runs = built.runs.read_text(encoding="utf-8")
    assert runs.index("run-4") < runs.index("run-3") < runs.index("run-2")
