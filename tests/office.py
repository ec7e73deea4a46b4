"""Documents printed as their users print them: LibreOffice headless to PDF, poppler for pages
and text, and an estimate, independent of guidefund.printing, of the height a text cell needs.

LibreOffice is a system package (.ci/run installs libreoffice-calc, libreoffice-writer,
fonts-noto-cjk and poppler-utils when absent); without it these tests fail, they do not skip.
Fonts that official documents name (仿宋, 黑体, 方正小标宋简体, 宋体) are mapped to Noto CJK by
tests/fonts/fonts.conf, so the PDFs are set with the metrics the layouts assume.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FONTS = Path(__file__).resolve().parent / "fonts" / "fonts.conf"
TOOLS = ("soffice", "pdfinfo", "pdftotext")


def require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not installed: apt-get install libreoffice-calc "
            "libreoffice-writer fonts-noto-cjk poppler-utils (.ci/run does this)"
        )


def to_pdf(documents: Mapping[str, Path], work: Path) -> dict[str, Path]:
    """Convert every document in one LibreOffice run (each start costs seconds); name → PDF.

    Each run has its own profile: two runs sharing one silently lose output, exit code 0."""
    require_tools()
    staged = work / "in"
    staged.mkdir(parents=True, exist_ok=True)
    names = {}
    for name, path in documents.items():
        target = staged / f"{name}{path.suffix}"
        shutil.copyfile(path, target)
        names[name] = target
    out = work / "pdf"
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS)}
    profile = (work / "profile").resolve().as_uri()
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out), *map(str, names.values())],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    pdfs = {name: out / f"{name}.pdf" for name in documents}
    lost = [name for name, pdf in pdfs.items() if not pdf.is_file()]
    if lost:
        raise RuntimeError(f"LibreOffice wrote no PDF for {lost}: {done.stdout} {done.stderr}")
    return pdfs


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """The PDF's text in reading order (pdftotext -raw)."""
    cmd = ["pdftotext", "-raw"]
    if first is not None:
        cmd += ["-f", str(first)]
    if last is not None:
        cmd += ["-l", str(last)]
    return subprocess.run([*cmd, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def flat(value: str) -> str:
    """Text without any whitespace: wrapped lines in a PDF join up again."""
    return "".join(value.split())


# --- how tall a text cell must be, estimated here from first principles ---------------------
# A column width unit is the width of '0' at 11 pt; Excel sets a CJK character of an 11-point
# font in about 2 units, a Latin character in about 1; a line takes about 1.3 × the font size.


def _units(ch: str, size: float) -> float:
    return (2.0 if ord(ch) > 0x2E7F else 1.0) * size / 11


def _lines(value: str, width: float, size: float) -> int:
    total = 0
    for part in value.split("\n"):
        used = sum(_units(ch, size) for ch in part)
        total += max(1, math.ceil(used / max(width - 1, 1)))
    return total


def too_short(ws: Worksheet) -> list[str]:
    """Text cells whose rows give less height than their text needs (merged ranges whole)."""
    spans = {(r.min_row, r.min_col): (r.max_row, r.max_col) for r in ws.merged_cells.ranges}
    short = []
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or not cell.value:
                continue
            last_row, last_col = spans.get((cell.row, cell.column), (cell.row, cell.column))
            width = sum(
                ws.column_dimensions[get_column_letter(c)].width or 8.43
                for c in range(cell.column, last_col + 1)
            )
            size = float(cell.font.sz or 11)
            needed = _lines(cell.value, width, size) * 1.3 * size
            given = sum(ws.row_dimensions[r].height or 15 for r in range(cell.row, last_row + 1))
            if given < needed:
                short.append(f"{cell.coordinate} needs {needed:.0f} pt, has {given:.0f}")
    return short
