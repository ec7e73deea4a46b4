"""A finding as a unit and the staff read it: one line on the console (`guidefund check`, the
nightly run summary) with the rule's Chinese name, never its id. Cheap to import: no openpyxl."""

from __future__ import annotations

from guidefund.expectations import rule_name
from guidefund.records import CRITICAL, Finding

REJECT, REMIND = "退回", "提醒"


def level(f: Finding) -> str:
    """退回 for a finding that rejects the file, 提醒 for one that only asks to check."""
    return REJECT if f.severity == CRITICAL else REMIND


def where(f: Finding) -> str:
    if f.sheet and f.cell:
        return f"{f.sheet}!{f.cell}"
    return f.sheet or "（文件）"


def finding_line(f: Finding) -> str:
    """'133.xlsx 资金情况!C5 [金额不能为负] 实际支出：…，请填写 0 或正数（退回）'."""
    return f"{f.file} {where(f)} [{rule_name(f.rule)}] {f.label}：{f.message}（{level(f)}）"


def counts_text(findings: list[Finding]) -> str:
    """'3 个问题，1 条提醒' (problems reject the file, reminders do not)."""
    problems = sum(f.severity == CRITICAL for f in findings)
    return f"{problems} 个问题，{len(findings) - problems} 条提醒"
