"""The units' mail (issue 15): after the nightly run one message per unit with its files'
verdicts and the feedback workbook of a refused one; the office's reminders (催报); each sent
once, against a real SMTP receiver (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook

from guidefund.reference import Reference
from tests.quirks import submission_file

from .conftest import Site, make_site


class Inbox:
    """An SMTP receiver on 127.0.0.1: every message it took, parsed."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"smtp://127.0.0.1:{self.port}/?from=kjt@example.org"
        self.messages: list[tuple[list[str], EmailMessage]] = []
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                box.messages.append((list(envelope.rcpt_tos), parsed))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    box = Inbox()
    box.controller.start()
    yield box
    box.controller.stop()


def contacts(site: Site, *rows: tuple[str, str, str]) -> None:
    lines = ["申报单位,联系人,邮箱", *(",".join(r) for r in rows)]
    (site.workdir / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


def body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.prefect
def test_after_the_nightly_run_each_unit_gets_one_message_once_with_its_feedback(
    tmp_path: Path, ref: Reference, smtp: Inbox, prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from guidefund.flows.nightly import nightly_consolidation

    monkeypatch.setenv("GUIDEFUND_UNIT_MAIL_URL", smtp.url)
    monkeypatch.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
    for site in make_site(tmp_path / "work", ref, unit_mail_url=smtp.url):
        contacts(site, (site.unit_a, "李老师", "li@example.org"))
        # unit A: a good file through its link, a bad one dropped in the inbox by the office
        good = submission_file(ref, site.project_a, tmp_path / "good.xlsx")
        r = site.client.post(
            f"/u/{site.token(site.unit_a)}", files=[("files", ("年报.xlsx", good.read_bytes()))]
        )
        assert r.status_code == 200
        bad = submission_file(ref, site.project_a, tmp_path / "bad.xlsx", funds_spent=-5)
        shutil.copy(bad, site.workdir / "inbox" / "A单位退回.xlsx")
        # unit B has no contact
        shutil.copy(
            submission_file(ref, site.project_b, tmp_path / "b.xlsx"),
            site.workdir / "inbox" / "b.xlsx",
        )

        summary = nightly_consolidation(year=2024, workdir=str(site.workdir))
        assert (summary.accepted, summary.rejected) == (2, 1)
        [message] = smtp.to("li@example.org")
        assert len(smtp.messages) == 1
        text = body(message)
        assert "已接收入库" in text and "A单位退回.xlsx：退回" in text
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == "A单位退回.xlsx.errors.xlsx"
        path = tmp_path / "fb.xlsx"
        path.write_bytes(attachment.get_content())
        cells = " ".join(
            str(c)
            for row in load_workbook(path).active.iter_rows(values_only=True)
            for c in row
            if c
        )
        assert "实际支出" in cells
        assert summary.unit_mail == [
            "已发邮件给 1 个单位",
            f"没有联系邮箱的单位（1）：{site.unit_b}",
        ]

        # a rerun sends nothing twice, whatever the run
        from guidefund.reports.unit_mail import mail_after_nightly

        again = mail_after_nightly(site.settings, ref, site.engine, summary.run_id)
        assert again.sent == {} and site.unit_a in again.already
        nightly_consolidation(year=2024, workdir=str(site.workdir))
        assert len(smtp.messages) == 1


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_office_reminds_each_missing_unit_once_a_day(
    tmp_path: Path, ref: Reference, smtp: Inbox, db: str
) -> None:
    from tests.pg import warehouse_url

    with warehouse_url(db, tmp_path) as url:
        remind_once(tmp_path, ref, smtp, url if db == "postgres" else "")


def remind_once(tmp_path: Path, ref: Reference, smtp: Inbox, url: str) -> None:
    for site in make_site(tmp_path / "work", ref, unit_mail_url=smtp.url, warehouse_url=url):
        contacts(site, (site.unit_a, "李老师", "li@example.org"), (site.unit_b, "王老师", "wang@example.org"),
                 ("不在计划中的单位", "赵", "zhao@example.org"))  # fmt: skip
        page = site.client.post(f"/o/{site.office}/remind")
        assert page.status_code == 200
        units = {p.unit for p in ref.plan}
        assert len(smtp.messages) == 2
        [a] = smtp.to("li@example.org")
        assert a["Subject"] == f"催报：2024 年度报告（{site.unit_a}）"
        assert f"序号 {site.project_a} {ref.project(site.project_a).name}" in body(a)
        assert ref.project(site.project_b).name not in body(a)  # nothing of another unit
        assert "已发送催报邮件：2 个单位" in page.text
        assert "没有联系邮箱、未能催报：" in page.text and len(units) > 2
        again = site.client.post(f"/o/{site.office}/remind")
        assert len(smtp.messages) == 2
        assert "今天已催报过、未重复发送" in again.text
        # a wrong token cannot send anything
        assert site.client.post("/o/not-the-office/remind").status_code == 404
        assert len(smtp.messages) == 2


def test_a_mail_server_that_refuses_holds_the_message_for_the_next_run(
    tmp_path: Path, ref: Reference, smtp: Inbox
) -> None:
    from guidefund.reports.unit_mail import mail_after_nightly

    from .test_portal_api import load_files

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = int(s.getsockname()[1])  # nothing listens here once the socket is closed
    for site in make_site(tmp_path / "work", ref):
        contacts(site, (site.unit_a, "李老师", "li@example.org"))
        run_id = load_files(site, ref, [submission_file(ref, site.project_a, tmp_path / "a.xlsx")])
        down = site.settings.model_copy(
            update={"unit_mail_url": f"smtp://127.0.0.1:{closed}/?from=k@x.org"}
        )
        failed = mail_after_nightly(down, ref, site.engine, run_id)
        assert failed.sent == {} and list(failed.failed) == [site.unit_a]
        assert failed.failed_lines()[0].startswith(f"给 {site.unit_a} 的邮件未能发送（")
        up = site.settings.model_copy(update={"unit_mail_url": smtp.url})
        assert mail_after_nightly(up, ref, site.engine, run_id).sent == {site.unit_a: 1}
        assert mail_after_nightly(up, ref, site.engine, run_id).sent == {}
        [message] = smtp.to("li@example.org")
        assert "a.xlsx：已接收入库" in body(message)
