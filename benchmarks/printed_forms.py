"""What the printed forms and the Data Docs cost (issue 12): writing each form, converting the
year-end documents with LibreOffice, and building the Data Docs as kept runs accumulate.

Prints figures, asserts nothing about time. Run: .venv/bin/python benchmarks/printed_forms.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.timing import timed  # noqa: E402
from guidefund.evaluate.figures import collect_figures  # noqa: E402
from guidefund.expectations import DocsRun  # noqa: E402
from guidefund.intake.batch import read_batch  # noqa: E402
from guidefund.intake.samples import write_samples  # noqa: E402
from guidefund.intake.template import write_templates  # noqa: E402
from guidefund.intake.validate import validate_plan, validate_submissions  # noqa: E402
from guidefund.reference import load_reference  # noqa: E402
from guidefund.reports.consolidated_xlsx import write_consolidated_xlsx  # noqa: E402
from guidefund.reports.report_docx import write_docx  # noqa: E402
from guidefund.reports.selfeval_xlsx import write_xlsx  # noqa: E402
from guidefund.settings import PROJECT_ROOT, Settings  # noqa: E402
from guidefund.warehouse.db import make_engine, upgrade  # noqa: E402
from guidefund.warehouse.load import load_batch, start_run  # noqa: E402

FONTS = PROJECT_ROOT / "tests" / "fonts" / "fonts.conf"


def main() -> None:
    ref = load_reference(PROJECT_ROOT / "data" / "reference", 2024)
    tmp = Path(tempfile.mkdtemp(prefix="guidefund-bench-print-"))
    try:
        samples = tmp / "samples"
        write_samples(ref, samples, seed=2024)
        subs = read_batch(sorted(samples.glob("*.xlsx")), ref)
        engine = make_engine(f"sqlite:///{tmp / 'w.sqlite'}")
        upgrade(engine)
        load_batch(engine, ref, start_run(engine, "nightly-consolidation"), subs, [])
        fig = collect_figures(engine, ref, Settings(), "2024")
        ms = 1000
        print("writing the printed forms (136 sample submissions, median of 5)")
        for name, fn in {
            "自评表 .xlsx": lambda: write_xlsx(tmp / "a.xlsx", fig),
            "report draft .docx": lambda: write_docx(tmp / "a.docx", fig),
            "汇总表 .xlsx": lambda: write_consolidated_xlsx(engine, ref, tmp / "b.xlsx"),
            "136 templates": lambda: write_templates(ref, tmp / "templates"),
        }.items():
            t, _ = timed(fn, repeat=5)
            print(f"  {name:<22} {t * ms:8.0f} ms")
        if shutil.which("soffice"):
            profile = (tmp / "profile").resolve().as_uri()
            cmd = ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                   "pdf", "--outdir", str(tmp / "pdf")]  # fmt: skip
            env = {"FONTCONFIG_FILE": str(FONTS), "PATH": "/usr/bin:/bin", "HOME": str(tmp)}
            t1, _ = timed(lambda: subprocess.run([*cmd, str(tmp / "a.xlsx")], env=env, check=True,
                                                 capture_output=True))  # fmt: skip
            t3, _ = timed(lambda: subprocess.run(
                [*cmd, str(tmp / "a.xlsx"), str(tmp / "a.docx"), str(tmp / "b.xlsx")], env=env,
                check=True, capture_output=True))  # fmt: skip
            print(f"LibreOffice to PDF: one document {t1:.1f} s, three in one run {t3:.1f} s")
        docs = DocsRun("bench")
        validate_plan(ref, docs)
        validate_submissions(subs, ref, docs=docs)
        from guidefund.expectations.runner import build_data_docs

        site = tmp / "data_docs"
        print("Data Docs build per run (plan + 2 submission suites), keeping 30 runs")
        for n in range(1, 41):
            t, built = timed(lambda: build_data_docs(docs, site, keep=30))
            if n in (1, 10, 30, 40):
                size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
                print(
                    f"  run {n:>2}: {t:5.2f} s, {built.kept} runs kept, site {size / 2**20:.1f} MiB"
                )
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
