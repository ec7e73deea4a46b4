"""What each page shows, from the warehouse and the working directory: plain functions the
routes call (in a thread: they touch the database and the disk)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from guidefund.evaluate.status import status_summary
from guidefund.intake.custody import feedback_path
from guidefund.warehouse import portal as sql
from guidefund.warehouse.consolidated import MISSING, REJECTED, SUBMITTED, consolidated_status

# `portal` below is guidefund.portal.app.Portal (not imported: the app imports this module).
Portal = Any

STATE_LABELS = {SUBMITTED: "已提交", REJECTED: "退回待改", MISSING: "未提交"}
VERSION_LABELS = {"accepted": "当前版本", "superseded": "已被新版本替代", "rejected": "退回"}
UPLOAD_LABELS = {
    "accepted": "检查通过，已放入收件箱，今晚入库",
    "rejected": "未通过检查，未接收",
    "other_unit": "不是本单位的项目，未接收",
    "duplicate": "与之前上传的文件相同，只保留一份",
}


def unit_context(portal: Portal, link: dict[str, Any], token: str) -> dict[str, Any]:
    """The unit's projects with their state, versions and uploads: nothing of another unit."""
    ref, unit = portal.ref, link["unit"]
    rows = [r for r in consolidated_status(portal.engine, ref) if r["unit"] == unit]
    if not rows:  # the warehouse has no plan yet: the reference's plan, all missing
        rows = [
            {"project_no": p.no, "name": p.name, "unit": p.unit, "category": p.category,
             "state": MISSING, "version": None}
            for p in ref.plan if p.unit == unit
        ]  # fmt: skip
    numbers = [r["project_no"] for r in rows]
    versions = defaultdict(list)
    for v in sql.versions_of(portal.engine, ref.region_code, ref.year, numbers):
        versions[v["project_no"]].append({**v, "label": VERSION_LABELS.get(v["state"], v["state"])})
    uploads = [
        {**u, "label": UPLOAD_LABELS[u["verdict"]],
         "feedback": (u["stored_at"] or "").startswith("portal/")}
        for u in sql.uploads_of(portal.engine, ref.region_code, ref.year, unit)
    ]  # fmt: skip
    projects = [
        {**r, "label": STATE_LABELS[r["state"]], "versions": versions.get(r["project_no"], [])}
        for r in rows
    ]
    return {
        "unit": unit,
        "token": token,
        "projects": projects,
        "uploads": uploads[:50],
        "max_mb": portal.settings.portal_max_file_mb,
        "max_files": portal.settings.portal_max_files,
    }


def template_file(portal: Portal, link: dict[str, Any], project_no: int) -> Path | None:
    """The pre-filled template of one of the unit's projects (written once, then kept)."""
    from guidefund.intake.template import file_name, write_submission

    ref = portal.ref
    project = next((p for p in ref.plan if p.no == project_no and p.unit == link["unit"]), None)
    if project is None:
        return None
    path = portal.settings.portal_dir / "templates" / str(ref.year) / file_name(project)
    if not path.is_file():
        from guidefund.portal.uploads import atomic_write

        tmp = path.with_name(f".{project.no}.build.xlsx")
        write_submission(ref, project, tmp)
        atomic_write(path, tmp.read_bytes())
        tmp.unlink()
    return path


def feedback_file(portal: Portal, link: dict[str, Any], upload_id: int) -> Path | None:
    """The feedback workbook of one of the unit's refused uploads."""
    ref = portal.ref
    row = sql.upload_of_unit(portal.engine, upload_id, ref.region_code, ref.year, link["unit"])
    if row is None or not row["stored_at"] or not row["stored_at"].startswith("portal/"):
        return None
    path = feedback_path(portal.settings.workdir / row["stored_at"])
    return path if path.is_file() else None


def report_files(portal: Portal) -> list[Path]:
    """The 汇总表 and year-end outputs in <workdir>/reports (files only, newest first)."""
    folder = portal.settings.reports
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def report_file(portal: Portal, name: str) -> Path | None:
    """A file of report_files by its exact name: nothing else can be asked for."""
    return next((p for p in report_files(portal) if p.name == name), None)


def office_context(portal: Portal, token: str) -> dict[str, Any]:
    """The same figures as `guidefund status`, per direction and per unit; the missing units
    with their contacts."""
    from guidefund.reports.unit_mail import read_contacts

    ref = portal.ref
    summary = status_summary(portal.engine, ref)
    rows = consolidated_status(portal.engine, ref)
    if not rows:
        rows = [{"project_no": p.no, "unit": p.unit, "state": MISSING} for p in ref.plan]
    units: dict[str, dict[str, Any]] = {}
    for r in rows:
        u = units.setdefault(
            r["unit"], {"unit": r["unit"], "projects": 0, SUBMITTED: 0, REJECTED: 0, MISSING: 0,
                        "open": []}
        )  # fmt: skip
        u["projects"] += 1
        u[r["state"]] += 1
        if r["state"] != SUBMITTED:
            u["open"].append(r["project_no"])
    contacts, problems = read_contacts(portal.settings.contacts)
    missing = [{**u, "contact": contacts.get(u["unit"])} for u in units.values() if u["open"]]
    return {
        "token": token,
        "summary": summary,
        "state_labels": STATE_LABELS,
        "units": list(units.values()),
        "missing": missing,
        "contact_problems": problems,
        "files": [p.name for p in report_files(portal)],
        "mail_ready": bool(portal.settings.unit_mail_url),
    }


def send_reminders(portal: Portal) -> dict[str, Any]:
    from guidefund.reports.unit_mail import remind_missing

    return remind_missing(portal.settings, portal.ref, portal.engine)
