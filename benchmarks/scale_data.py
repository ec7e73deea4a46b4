"""Nights of many distinct submissions, written fast: a synthetic year whose plan repeats the
real one until it has N projects (data/reference/650000/2024 copied, plan.csv, category_budget.csv
and region.csv recomputed so the reference check passes), and N workbooks made by templating
the bytes of one real workbook per original project (project number and name changed in the
sheet XML, the zip rebuilt), not by openpyxl per file.

Used by nightly_scale.py and hostile.py (`benchmarks/` is on sys.path when a script there runs).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sys
import zipfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from guidefund.intake.samples import write_samples  # noqa: E402
from guidefund.reference import Reference, load_reference, year_dir_for  # noqa: E402
from guidefund.settings import Settings  # noqa: E402

# Sample-generator files name the real projects; a synthetic year leaves them out.
PROJECT_SPECIFIC = ("sample_cases.csv", "sample_totals.csv", "sample_reasons.csv", "grades.csv",
                    "self_scores.csv")  # fmt: skip


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _money(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != value.to_integral() else str(int(value))


def synthetic_year(root: Path, projects: int, year: int = 2024) -> Reference:
    """<root>/<year>/: the real year's files with the plan repeated to `projects` projects."""
    base = year_dir_for(Settings().reference_dir, year)
    target = root / str(year)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target)
    for name in PROJECT_SPECIFIC:
        (target / name).unlink(missing_ok=True)
    plan = _rows(base / "plan.csv")
    rows = []
    for i in range(projects):
        row = dict(plan[i % len(plan)])
        row["序号"] = str(i + 1)
        if i >= len(plan):
            row["项目名称"] = f"{row['项目名称']}（合成{i + 1}）"
        rows.append(row)
    _write(target / "plan.csv", rows)
    money: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    count: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in rows:
        money[(r["类别"], r["立项类型"])] += Decimal(r["安排资金（万元）"])
        count[(r["类别"], r["立项类型"], r["支持方式"])] += 1
    budget = _rows(base / "category_budget.csv")
    for b in budget:
        cat = b["类别"]
        carried, new = money[(cat, "结转")], money[(cat, "新上")]
        b.update({"结转（万元）": _money(carried), "新上（万元）": _money(new),
                  "合计（万元）": _money(carried + new),
                  "项目数": str(sum(v for (c, _, _), v in count.items() if c == cat)),
                  "结转项目数": str(sum(v for (c, t, _), v in count.items() if c == cat and t == "结转")),
                  "新上直接补助项目数": str(count[(cat, "新上", "直接补助")]),
                  "新上后补助项目数": str(count[(cat, "新上", "后补助")])})  # fmt: skip
    _write(target / "category_budget.csv", budget)
    total = sum(money.values(), Decimal(0))
    [region] = _rows(base / "region.csv")
    region.update({"年度金额（万元）": _money(total), "中央补助（万元）": _money(total),
                   "地方资金（万元）": "0", "项目总数": str(len(rows)),
                   "新上项目数": str(sum(v for (_, t, _), v in count.items() if t == "新上")),
                   "结转项目数": str(sum(v for (_, t, _), v in count.items() if t == "结转")),
                   "新上直接补助项目数": str(sum(v for (_, t, s), v in count.items() if t == "新上" and s == "直接补助")),
                   "新上后补助项目数": str(sum(v for (_, t, s), v in count.items() if t == "新上" and s == "后补助"))})  # fmt: skip
    _write(target / "region.csv", [region])
    lines = _rows(base / "budget.csv")  # the 中央财政资金 line carries the whole plan
    lines[0]["全年预算数（万元）"] = _money(total)
    _write(target / "budget.csv", lines)
    return load_reference(root, year)


class Templater:
    """Workbooks for synthetic projects from the real samples' bytes: project `i` is a copy of
    the sample of original project ((i - 1) mod 136) + 1, with its 序号 and 项目名称 changed."""

    def __init__(self, ref: Reference, scratch: Path):
        real = load_reference(Settings().reference_dir, ref.year)
        write_samples(real, scratch, seed=ref.year)
        self.ref = ref
        self.base: dict[int, list[tuple[zipfile.ZipInfo, bytes]]] = {}
        for path in sorted(scratch.glob("*.xlsx")):
            no = int(path.name[:3])
            with zipfile.ZipFile(path) as z:
                self.base[no] = [(i, z.read(i.filename)) for i in z.infolist()]
        self.originals = len(self.base)

    def workbook(self, no: int) -> bytes:
        original = (no - 1) % self.originals + 1
        project = self.ref.project(no)
        assert project is not None
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info, data in self.base[original]:
                if info.filename == "xl/worksheets/sheet2.xml":
                    data = _identity(data, no, project.name)
                z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        return out.getvalue()

    def write(self, out: Path, projects: range) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for no in projects:
            path = out / f"{no:06d}.xlsx"
            path.write_bytes(self.workbook(no))
            paths.append(path)
        return paths


def _identity(xml: bytes, no: int, name: str) -> bytes:
    xml = re.sub(rb'(<c r="C5"[^>]*>)<v>\d+</v>', rb"\g<1><v>%d</v>" % no, xml, count=1)
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").encode()
    return re.sub(
        rb'(<c r="C6"[^>]*><is><t>)[^<]*(</t>)', rb"\g<1>" + escaped + rb"\g<2>", xml, count=1
    )
