"""The artifacts a run leaves in Prefect, read back from the API as the UI would show them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from guidefund.flows import artifacts

pytestmark = pytest.mark.prefect

SUMMARY = {
    "run_id": 7,
    "year": 2024,
    "region_code": "650000",
    "received": 5,
    "accepted": 3,
    "rejected": 1,
    "duplicate": 1,
    "superseded": 0,
    "rejected_files": {
        "bad.xlsx": [
            "bad.xlsx 资金情况!C5 [funds_non_negative] 实际支出：不得为负数",
            "bad.xlsx 资金情况!C6 [spent_le_received] 实际支出：不得大于到位数",
            "bad.xlsx 基本信息!C4 [project_no] 项目序号：应为 1–136 的整数",
            "bad.xlsx 基本信息!C9 [filled_date] 填报日期：不是日期",
        ]
    },
    "consolidated_findings": [],
}
ALERT = {
    "severity": "warning",
    "subject": "项目 12 新疆大学",
    "rule": "execution.lag",
    "value": Decimal("40.0000"),
    "threshold": Decimal("50.0000"),
    "period": "2024-06",
    "message": "资金执行率低于序时进度",
    "as_of": date(2024, 7, 3),
}
INDICATOR = {
    "no": 7,
    "level1": "产出指标",
    "level2": "数量指标",
    "indicator": "转化科技成果数量",
    "operator": "≥",
    "target": Decimal("163"),
    "target_text": "163",
    "unit": "项",
    "rule": "sum",
    "actual": Decimal("122"),
    "actual_text": "122",
    "completion_pct": Decimal("74.8466"),
    "deviation_pct": Decimal("-25.1534"),
    "needs_explanation": True,
}


def artifacts_of(flow_run_id: UUID) -> dict[str, Any]:
    """The run's artifacts by key, tables decoded from their JSON."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: json.loads(a.data) if a.type == "table" else a.data for a in found if a.key}


def run_in_flow(publish: Any) -> UUID:
    """Run `publish()` inside a flow run and return that run's id."""
    from prefect import flow
    from prefect.runtime import flow_run

    @flow(name="artifact-probe")
    def probe() -> str:
        publish()
        return str(flow_run.id)

    return UUID(probe())


def test_a_nightly_run_shows_its_counts_rejected_files_alerts_and_data_docs(
    prefect_harness: None, tmp_path: Path
) -> None:
    docs = tmp_path / "data_docs" / "index.html"

    run_id = run_in_flow(lambda: artifacts.publish_nightly(SUMMARY, [ALERT], data_docs=docs))
    found = artifacts_of(run_id)

    assert sorted(found) == [
        "alerts-650000-2024",
        "nightly-summary-650000-2024",
        "rejected-files-650000-2024",
        "reports-650000-2024",
    ]
    assert found["nightly-summary-650000-2024"] == [
        {
            "运行": 7,
            "地区": "650000",
            "年度": 2024,
            "收到": 5,
            "接收": 3,
            "退回": 1,
            "重复": 1,
            "被替代": 0,
        }
    ]
    assert found["rejected-files-650000-2024"] == [
        {
            "文件": "bad.xlsx",
            "首要问题": "\n".join(SUMMARY["rejected_files"]["bad.xlsx"][:3]),  # type: ignore[index]
        }
    ]
    assert found["alerts-650000-2024"] == [
        {
            "级别": "warning",
            "对象": "项目 12 新疆大学",
            "规则": "execution.lag",
            "值": "40",
            "阈值": "50",
            "期间": "2024-06",
            "截至": "2024-07-03",
            "说明": "资金执行率低于序时进度",
        }
    ]
    assert f"[校验报告 Data Docs]({docs.resolve().as_uri()})" in found["reports-650000-2024"]


def test_a_clean_run_says_so_instead_of_showing_an_empty_table(prefect_harness: None) -> None:
    clean = {**SUMMARY, "rejected": 0, "rejected_files": {}}

    found = artifacts_of(run_in_flow(lambda: artifacts.publish_nightly(clean, [])))

    assert found["rejected-files-650000-2024"] == "本次没有退回的文件。"
    assert found["alerts-650000-2024"] == "没有预警。"
    assert "reports-650000-2024" not in found


@pytest.mark.parametrize("as_object", [False, True], ids=["dict", "IndicatorResult"])
def test_a_year_end_run_shows_the_indicator_table_and_links_to_its_reports(
    prefect_harness: None, tmp_path: Path, as_object: bool
) -> None:
    from guidefund.records import IndicatorResult

    xlsx = tmp_path / "reports" / "自评表_新疆_2024.xlsx"
    result = IndicatorResult(**INDICATOR) if as_object else INDICATOR

    found = artifacts_of(
        run_in_flow(lambda: artifacts.publish_year_end(2024, [result], [xlsx], [], "650000"))
    )

    assert found["indicators-650000-2024"] == [
        {
            "序号": 7,
            "一级指标": "产出指标",
            "二级指标": "数量指标",
            "三级指标": "转化科技成果数量",
            "指标值": "≥163项",
            "实际完成值": "122",
            "完成率%": "74.8466",
            "偏差率%": "-25.1534",
            "需说明": "是",
        }
    ]
    assert found["alerts-650000-2024"] == "没有预警。"
    assert found["reports-650000-2024"] == (
        f"### 报告与校验\n\n- [自评表_新疆_2024.xlsx]({xlsx.resolve().as_uri()})\n"
    )
