"""The typed records that travel between stages: a read submission and a finding about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

Value = Decimal | int | bool | str | date | None

CRITICAL = "critical"
WARNING = "warning"


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
    """One workbook as read: typed values by field key and the cell each came from."""

    path: Path
    sha256: str
    values: dict[str, Value] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return self.path.name

    @property
    def project_no(self) -> int | None:
        v = self.values.get("project_no")
        return v if isinstance(v, int) else None

    @property
    def period(self) -> str | None:
        v = self.values.get("period")
        return v if isinstance(v, str) else None


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
