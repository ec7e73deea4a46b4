"""Mail to the units (issue 15): after the nightly run, one message per unit with each of its
files' verdict and, for a refused file, its feedback workbook attached; and the office's
reminders (催报) to the units still missing. Through GUIDEFUND_UNIT_MAIL_URL
(smtp://user:pass@host:port/?from=..&starttls=1) to the 邮箱 of <workdir>/contacts.csv
(申报单位, 联系人, 邮箱: personal data stays in the working directory, out of data/reference/).

Every item told is recorded (warehouse.unit_mail) after the server took the message, so a rerun
sends nothing twice and a failed message is sent by the next run."""

from __future__ import annotations

import csv
import smtplib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from guidefund.faults import explain
from guidefund.intake.custody import feedback_path
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse import portal as sql
from guidefund.warehouse.consolidated import SUBMITTED, consolidated_status

TIMEOUT_SECONDS = 20
COLUMNS = ("申报单位", "联系人", "邮箱")
VERDICTS = {"accepted": "已接收入库", "rejected": "退回，请按附件问题清单修改后重新报送",
            "duplicate": "与之前报送的文件相同，无需处理", "superseded": "已被同批更新的版本替代"}  # fmt: skip


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass
class MailOutcome:
    """Per unit: messages sent (with how many items), units without a contact, failures."""

    sent: dict[str, int] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    no_contact: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = []
        if self.sent:
            out.append(f"已发邮件给 {len(self.sent)} 个单位")
        if self.no_contact:
            out.append(
                f"没有联系邮箱的单位（{len(self.no_contact)}）：{'、'.join(self.no_contact)}"
            )
        return out + self.failed_lines()

    def failed_lines(self) -> list[str]:
        return [f"给 {unit} 的邮件未能发送（{why}），下次补发" for unit, why in self.failed.items()]


def read_contacts(path: Path) -> tuple[dict[str, Contact], list[str]]:
    """unit → contact from contacts.csv (UTF-8, with or without BOM), and one line per row that
    could not be used. A missing file is no contacts, not an error."""
    if not path.is_file():
        return {}, []
    contacts, problems = {}, []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        lacking = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if lacking:
            return {}, [f"{path.name}：缺少列 {'、'.join(lacking)}"]
        for i, row in enumerate(reader, start=2):
            unit, email = (row["申报单位"] or "").strip(), (row["邮箱"] or "").strip()
            if not unit:
                continue
            if "@" not in email or any(ch in email for ch in " ,;<>\r\n"):
                problems.append(f"{path.name} 第 {i} 行：{unit} 的邮箱“{email}”无效")
                continue
            contacts[unit] = Contact((row["联系人"] or "").strip(), email)
    return contacts, problems


def send_mail(url: str, to: str, subject: str, text: str, attachments: Sequence[Path] = ()) -> None:
    """One message through smtp://user:pass@host:port/?from=a@x[&starttls=1] (smtps:// too)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    sender = query.get("from", "")
    if parts.scheme.lower() not in ("smtp", "smtps") or not sender or not parts.hostname:
        raise ValueError(
            "GUIDEFUND_UNIT_MAIL_URL 的邮件地址不完整：应为 smtp://用户:密码@主机:端口/?from=发件人"
        )
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, sender, to
    message.set_content(text)
    for path in attachments:
        message.add_attachment(
            path.read_bytes(), maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=path.name,
        )  # fmt: skip
    smtp_class = smtplib.SMTP_SSL if parts.scheme.lower() == "smtps" else smtplib.SMTP
    port = parts.port or (465 if smtp_class is smtplib.SMTP_SSL else 25)
    with smtp_class(parts.hostname, port, timeout=TIMEOUT_SECONDS) as smtp:
        if query.get("starttls", "").lower() in ("1", "yes", "true"):
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def _unit_of(receipt: Mapping[str, Any], ref: Reference, uploaded: Mapping[str, str]) -> str | None:
    """The unit a received file belongs to: its project's unit in the plan, else the unit that
    uploaded those bytes on the web page."""
    no = receipt.get("project_no")
    project = next((p for p in ref.plan if p.no == no), None) if no is not None else None
    return project.unit if project is not None else uploaded.get(receipt["sha256"])


def mail_after_nightly(
    settings: Settings, ref: Reference, engine: Engine, run_id: int
) -> MailOutcome:
    """One message per unit with files in run `run_id` not told yet."""
    outcome = MailOutcome()
    receipts = sql.run_receipts(engine, ref.region_code, ref.year, run_id)
    uploaded = sql.uploads_by_sha(
        engine, ref.region_code, ref.year, [r["sha256"] for r in receipts]
    )
    per_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in receipts:
        unit = _unit_of(r, ref, uploaded)
        if unit is not None:
            per_unit[unit].append(r)
    contacts, _ = read_contacts(settings.contacts)
    for unit, rows in per_unit.items():
        items = {f"receipt:{r['id']}": r for r in rows}
        told = sql.mailed(engine, ref.region_code, ref.year, unit, items)
        new = [r for key, r in items.items() if key not in told]
        if not new:
            outcome.already.append(unit)
            continue
        contact = contacts.get(unit)
        if contact is None:
            outcome.no_contact.append(unit)
            continue
        lines = [f"{contact.name or unit}：", "",
                 f"{ref.region_name}{ref.year} 年度中央引导地方科技发展资金填报文件处理结果："]  # fmt: skip
        attachments = []
        for r in new:
            lines.append(f"· {Path(r['file_name']).name}：{VERDICTS.get(r['state'], r['state'])}")
            if r["state"] == "rejected" and r["destination"]:
                fb = feedback_path(settings.workdir / r["destination"])
                if fb.is_file():
                    attachments.append(fb)
        try:
            send_mail(
                settings.unit_mail_url, contact.email,
                f"填报文件处理结果（{unit}，{len(new)} 个文件）", "\n".join(lines), attachments,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - one unit's failure is reported, the rest go on
            outcome.failed[unit] = explain(exc)
            continue
        sql.record_mail(engine, ref.region_code, ref.year, unit, "nightly",
                        [f"receipt:{r['id']}" for r in new], contact.email)  # fmt: skip
        outcome.sent[unit] = len(new)
    return outcome


def remind_missing(
    settings: Settings, ref: Reference, engine: Engine, today: datetime | None = None
) -> MailOutcome:
    """One reminder (催报) per unit with a plan project not yet submitted, at most one a day."""
    outcome = MailOutcome()
    if not settings.unit_mail_url:
        outcome.failed["全部"] = "未设置 GUIDEFUND_UNIT_MAIL_URL"
        return outcome
    zone = ZoneInfo(settings.timezone)
    day = (today or datetime.now(UTC)).astimezone(zone).date().isoformat()
    open_projects: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in consolidated_status(engine, ref):
        if r["state"] != SUBMITTED:
            open_projects[r["unit"]].append(r)
    contacts, _ = read_contacts(settings.contacts)
    for unit, rows in open_projects.items():
        item = f"remind:{ref.year}:{day}"
        if sql.mailed(engine, ref.region_code, ref.year, unit, [item]):
            outcome.already.append(unit)
            continue
        contact = contacts.get(unit)
        if contact is None:
            outcome.no_contact.append(unit)
            continue
        lines = [f"{contact.name or unit}：", "",
                 f"{ref.region_name}{ref.year} 年度中央引导地方科技发展资金，以下项目的年度报告尚未提交或被退回待改，请尽快报送："]  # fmt: skip
        lines += [f"· 序号 {r['project_no']} {r['name']}" for r in rows]
        try:
            send_mail(
                settings.unit_mail_url,
                contact.email,
                f"催报：{ref.year} 年度报告（{unit}）",
                "\n".join(lines),
            )
        except Exception as exc:  # noqa: BLE001
            outcome.failed[unit] = explain(exc)
            continue
        sql.record_mail(engine, ref.region_code, ref.year, unit, "reminder", [item], contact.email)
        outcome.sent[unit] = len(rows)
    return outcome
