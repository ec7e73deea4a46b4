"""The critical gates: what a unit is told, where, and for which file.

Submissions are built from literal values for real plan projects of the 2024 reference; every
batch goes through one GX run on the one process-wide, quiet context.
"""

from __future__ import annotations

import socket
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from expectations import load_suite, suite_data
from flows.records import CRITICAL, Finding, Submission
from flows.reference import Reference, load_reference
from flows.settings import Settings
from flows.validate import (
    CONSOLIDATED_SUITE,
    PLAN_ATTRS,
    SUBMISSION_SUITE,
    placeholders,
    quiet_gx_context,
    submission_frame,
    validate_consolidated,
    validate_submissions,
)


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference(Settings().reference_dir, 2024)


@pytest.fixture(scope="module", autouse=True)
def gx_context() -> Any:
    return quiet_gx_context()


def submission(ref: Reference, no: int, **changes: Any) -> Submission:
    """A valid annual submission for plan project `no`, with `changes` applied to its values."""
    p = ref.project(no)
    assert p is not None
    values: dict[str, Any] = {
        "template_version": "GF-2024.1",
        "project_no": p.no,
        "project_name": p.name,
        "unit_name": p.unit,
        "unit_type": p.unit_type,
        "category": p.category,
        "project_type": p.project_type,
        "support_mode": p.support_mode,
        "allocation": p.allocation,
        "period": "2024",
        "filled_date": date(2025, 1, 15),
        "contact": "王芳",
        "phone": "0991-1234567",
        "funds_received": p.allocation,
        "funds_spent": p.allocation,
        "funds_on_time": p.allocation,
        "self_raised": Decimal("1060"),
        "local_east_west": Decimal("0"),
        "financing": Decimal("0"),
        "achievements": 2,
        "east_west": False,
        "central_local": False,
        "hightech_firms": 1,
        "sme_firms": 3,
        "contract_value": Decimal("12.5"),
        "trained_staff": 40,
        "consulting": 25,
        "rural": True,
        "brokers": 0,
        "capability": Decimal("90"),
        "satisfaction": Decimal("95"),
        "self_grade": "良",
        "deviation_reason": None,
    }
    values.update(changes)
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
    for name in (SUBMISSION_SUITE, CONSOLIDATED_SUITE):
        assert len(load_suite(name).expectations) == len(suite_data(name)["expectations"])


def test_every_expectation_says_rule_field_message_and_fix(ref: Reference) -> None:
    keys = {f.key for f in ref.fields}
    for name in (SUBMISSION_SUITE, CONSOLIDATED_SUITE):
        for e in suite_data(name)["expectations"]:
            meta = e["meta"]
            assert meta["rule"] and meta["message"] and meta["fix"], e
            assert meta["field"] in keys, e


def test_submission_messages_use_only_known_placeholders(ref: Reference) -> None:
    context = {"label", "value", "unit", "sheet", "cell", "year", "plan", "allowed"}
    known = {f.key for f in ref.fields} | context | {f"plan_{k}" for k in PLAN_ATTRS}
    for e in suite_data(SUBMISSION_SUITE)["expectations"]:
        used = placeholders(e["meta"]["message"]) | placeholders(e["meta"]["fix"])
        assert used <= known, e["meta"]


def test_the_submission_suite_covers_the_template(ref: Reference) -> None:
    """Required, non-negative and 0–100 rules match template_fields.csv field for field."""
    by_rule: dict[str, dict[str, dict[str, Any]]] = {}
    for e in suite_data(SUBMISSION_SUITE)["expectations"]:
        by_rule.setdefault(e["meta"]["rule"], {})[e["meta"]["field"]] = e["kwargs"]
    assert set(by_rule["required"]) == {f.key for f in ref.fields if f.required}
    for rule, kind in (("funds_non_negative", "money"), ("counts_non_negative", "int")):
        fields = {f.key: f for f in ref.fields if f.kind == kind and f.key != "project_no"}
        assert set(by_rule[rule]) == set(fields)
        assert all(Decimal(by_rule[rule][k]["min_value"]) == f.lower for k, f in fields.items())
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
    findings = validate_submissions(subs, ref)
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


def test_a_missing_project_fails_its_direction(ref: Reference) -> None:
    rows = [r for r in plan_rows(ref) if r["project_no"] != 46]
    assert validate_consolidated(rows, ref) == [
        Finding(
            file="汇总",
            sheet="",
            cell="",
            field="allocation",
            label="科技创新基地建设（2024）安排资金",
            value="5124",
            rule="direction_allocation_equals_budget",
            message=(
                "科技创新基地建设（报告期 2024）已接受报送的安排资金合计 5124 万元，"
                "与计划类别预算 5324 万元不符，请核对该方向的报送：缺少序号 46 的报送"
            ),
            severity=CRITICAL,
        )
    ]


def test_a_second_current_submission_for_a_project_and_period_fails(ref: Reference) -> None:
    rows = plan_rows(ref)
    rows.append(dict(rows[45]))
    findings = validate_consolidated(rows, ref)
    assert [(f.rule, f.label, f.value) for f in findings] == [
        ("direction_allocation_equals_budget", "科技创新基地建设（2024）安排资金", "5524"),
        ("one_current_per_project_period", "科技创新基地建设（2024）项目序号", "序号 46（2 份）"),
    ]


def test_each_period_is_consolidated_on_its_own(ref: Reference) -> None:
    rows = plan_rows(ref) + [r for r in plan_rows(ref, "2024-07") if r["project_no"] != 3]
    findings = validate_consolidated(rows, ref)
    assert [(f.rule, f.label) for f in findings] == [
        ("direction_allocation_equals_budget", "区域科技创新体系建设（2024-07）安排资金")
    ]


def test_an_empty_set_fails_every_direction(ref: Reference) -> None:
    findings = validate_consolidated([], ref)
    assert [f.label for f in findings] == [f"{cat}（2024）安排资金" for cat in ref.budget]
