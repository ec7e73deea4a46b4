"""A unit's page in a real browser (issue 15): headless Chromium, driven by Playwright, opens a
unit's link, uploads a workbook with a mistake, and sees the findings; screenshots of the page
(desktop and phone widths) are kept under the test's tmp_path as artefacts.

Debian's `chromium` is the browser (Playwright's own download is not used: this machine has no
internet). `.ci/run` installs it and sets GUIDEFUND_TEST_CHROMIUM, which makes a missing browser
a failure; elsewhere the test is skipped when /usr/bin/chromium is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guidefund.reference import Reference
from tests.quirks import submission_file

from .conftest import make_site, served

CHROMIUM = os.environ.get("GUIDEFUND_TEST_CHROMIUM", "/usr/bin/chromium")
# As this machine's probe starts it: no sandbox (root in CI), and no background connections,
# which the closed network would refuse.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).is_file():
        if "GUIDEFUND_TEST_CHROMIUM" in os.environ:
            pytest.fail(f"GUIDEFUND_TEST_CHROMIUM={CHROMIUM} does not exist")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def test_a_unit_uploads_in_a_real_browser_and_sees_its_findings(
    tmp_path: Path, ref: Reference, chromium: str
) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []  # what the browser's console reports as errors
    for site in make_site(tmp_path / "work", ref):
        bad = submission_file(
            ref, site.project_a, tmp_path / "upload" / "年报_有误.xlsx", funds_spent=-5
        )
        good = submission_file(ref, site.project_a, tmp_path / "upload" / "年报.xlsx")
        with served(site.client.app) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="zh-CN")
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(f"{url}/u/{site.token(site.unit_a)}")
                assert page.locator("h1").inner_text() == site.unit_a
                assert page.locator(".badge.missing").first.inner_text() == "未提交"
                page.set_input_files("#files", [str(bad), str(good)])
                page.click("button[type=submit]")
                page.wait_for_selector("#results")
                results = page.locator("#results article")
                assert results.count() == 2
                first = results.nth(0)
                assert "未接收" in first.locator(".verdict").inner_text()
                row = first.locator("tr.reject", has_text="实际支出")
                assert row.locator("td[data-h=工作表]").inner_text() == "资金情况"
                assert row.locator("td[data-h=单元格]").inner_text() == "C5"
                assert row.locator("td[data-h=填写的内容]").inner_text() == "-5"
                assert "可以接收" in results.nth(1).locator(".verdict").inner_text()
                # the style sheet applied (no inline styles, CSP allows only 'self')
                color = first.locator(".verdict").evaluate("e => getComputedStyle(e).color")
                assert color == "rgb(164, 38, 44)"
                page.screenshot(path=str(tmp_path / "unit_page.png"), full_page=True)
                with page.expect_download() as download:
                    first.locator("a", has_text="下载问题清单").click()
                assert download.value.suggested_filename.endswith(".errors.xlsx")
                phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
                phone.goto(f"{url}/u/{site.token(site.unit_a)}")
                phone.set_input_files("#files", [str(bad)])
                phone.click("button[type=submit]")
                phone.wait_for_selector("#results")
                again = phone.locator("#results").inner_text()
                assert "完全相同，只保留一份" in again and "下载问题清单" in again
                assert phone.locator("#results td[data-h=单元格]").first.inner_text() == "C5"
                width = phone.evaluate("document.documentElement.scrollWidth")
                assert width <= 390  # nothing wider than the phone: no sideways scrolling
                phone.screenshot(path=str(tmp_path / "unit_page_phone.png"), full_page=True)
                assert errors == []  # no CSP violation, no failed load
            finally:
                browser.close()
        print(f"screenshots: {tmp_path / 'unit_page.png'} {tmp_path / 'unit_page_phone.png'}")
