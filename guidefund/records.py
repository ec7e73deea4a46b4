"""The typed records that travel between stages: a read submission, a finding about it, an
indicator result, a budget row, a breakdown row and a unit's stated reason; and the names that
steer behaviour wherever a table has a total row or a period is read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from guidefund.numbers import json_number

Value = Decimal | int | bool | str | date | None

CRITICAL = "critical"
WARNING = "warning"
TOTAL = "合计"  # the label of every total row (breakdowns, budget checks, 汇总表)


@dataclass(frozen=True)
class Finding:
    """One problem in one cell (or one file), worded for the unit that must fix it."""

    file: str
    sheet: str
    cell: str
    field: str
    label: str
    value: str
    rule: str
    message: str
    severity: str = CRITICAL

    def line(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.sheet else "(文件)"
        return f"{self.file} {where} [{self.rule}] {self.label}：{self.message}"


@dataclass
class Submission:
    """One workbook as read: typed values by field key and the cell each came from.

    `name` is how the file is known on receipts and findings: its path inside the inbox
    ('unit/046.xlsx'), or its own name when it was read from elsewhere; `modified` its
    modification time (seconds since the epoch), which decides between two versions of one
    project filled on the same day."""

    path: Path
    sha256: str
    values: dict[str, Value] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    name: str = ""
    modified: float | None = None

    @property
    def file_name(self) -> str:
        return self.name or self.path.name

    @property
    def project_no(self) -> int | None:
        v = self.values.get("project_no")
        return v if isinstance(v, int) else None

    @property
    def period(self) -> str | None:
        v = self.values.get("period")
        return v if isinstance(v, str) else None


@dataclass(frozen=True)
class IndicatorResult:
    no: int
    level1: str
    level2: str
    indicator: str
    operator: str
    target: Decimal | None
    target_text: str
    unit: str
    rule: str
    actual: Decimal | None
    actual_text: str
    completion_pct: Decimal | None
    deviation_pct: Decimal | None
    needs_explanation: bool
    # Reached its target (guidefund.evaluate.indicators.is_met); None without a target.
    met: bool | None = None

    @property
    def scored(self) -> bool:
        """Has a target to be measured against (a number, or a qualitative wording)."""
        return self.completion_pct is not None or self.target_text not in ("", "—")

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for k, v in asdict(self).items():
            out[k] = json_number(v) if isinstance(v, Decimal) else v
        return out


@dataclass(frozen=True)
class BudgetRow:
    source: str
    budget: Decimal
    executed: Decimal
    rate_pct: Decimal | None


@dataclass(frozen=True)
class Reason:
    """A unit's stated 偏差原因及改进措施, gathered under an indicator it contributed to."""

    project_no: int
    project_name: str
    unit: str
    text: str
    share_pct: Decimal

    def line(self) -> str:
        return f"项目{self.project_no}（{self.unit}）：{self.text}"


@dataclass(frozen=True)
class GroupRow:
    """Projects of one group of the plan, and what their current submissions report."""

    group: str
    projects: int
    submitted: int
    allocation: Decimal
    received: Decimal
    spent: Decimal
    execution_pct: Decimal | None  # spent / allocation; None when nothing was allocated

    def as_json(self) -> dict[str, object]:
        return {k: json_number(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}


def period_month(period: str) -> int | None:
    """7 for '2024-07'; None for the annual report '2024'."""
    return int(period[5:7]) if len(period) == 7 else None


def period_label(period: str) -> str:
    """'2024-07' as is; the annual report '2024' as '2024 年度'."""
    return period if period_month(period) else f"{period} 年度"
