"""New alerts reach people once: a webhook, an SMTP server and an Apprise URL, each a real
receiver this test starts on 127.0.0.1; with no notifier, a local file. Also the weekly digest.

Alert rows are written straight into the real `alert` table, as the alert writer does: a first
run raises them, a later run sees them again (`last_seen_run_id`)."""

from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, update

from guidefund.notify import LEDGER_NAME, NotDelivered, deliver_alerts
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse.alerts import alert_rows
from guidefund.warehouse.db import make_engine, upgrade
from guidefund.warehouse.load import load_reference_data, start_run
from guidefund.warehouse.models import Alert, Run


# ---------------------------------------------------------------- receivers on 127.0.0.1
class HttpReceiver:
    """Records every POST; answers with the next queued status (200 once the queue is empty)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append({"path": self.path, "json": json.loads(body)})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 127.0.0.1 test SMTP")
        envelope: dict[str, Any] = {"to": []}
        while line := self.rfile.readline():
            verb = line.decode("ascii", "replace").strip()
            upper = verb.upper()
            if upper.startswith(("EHLO", "HELO")):
                self.reply("250 127.0.0.1")
            elif upper.startswith("MAIL FROM:"):
                envelope["from"] = verb[10:].strip(" <>")
                self.reply("250 OK")
            elif upper.startswith("RCPT TO:"):
                envelope["to"].append(verb[8:].strip(" <>"))
                self.reply("250 OK")
            elif upper == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                envelope["message"] = email.message_from_bytes(data, policy=email.policy.default)
                self.server.messages.append(envelope)  # type: ignore[attr-defined]
                envelope = {"to": []}
                self.reply("250 OK queued")
            elif upper == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------- a warehouse with alerts
@pytest.fixture
def warehouse(migrated_warehouse: Engine, ref: Reference) -> Engine:
    """A migrated warehouse holding the 2024 reference (SQLite and PostgreSQL)."""
    with migrated_warehouse.begin() as conn:
        load_reference_data(conn, ref)
    return migrated_warehouse


def utcnow() -> datetime:
    """Naive UTC, as the warehouse stores times."""
    return datetime.now(UTC).replace(tzinfo=None)


def nightly_run(
    engine: Engine,
    started: datetime | None = None,
    flow: str = "nightly-consolidation",
    region: str = "650000",
    year: int = 2024,
) -> int:
    """A finished run of a region and year, as the nightly (or another) flow records it."""
    run_id = start_run(engine, flow, region, year)
    values: dict[str, Any] = {"status": "succeeded", "finished_at": utcnow()}
    if started is not None:
        values["started_at"] = started
    with engine.begin() as conn:
        conn.execute(update(Run).where(Run.id == run_id).values(**values))
    return run_id


def raise_alert(
    engine: Engine, key: str, run_id: int, severity: str = "warning", **values: Any
) -> None:
    """Insert the alert, or mark it seen again in `run_id` (what the alert writer does)."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(Alert)
            .where(Alert.dedup_key == key)
            .values(last_seen_run_id=run_id, severity=severity)
        ).rowcount
        if not changed:
            row = {
                "region_code": "650000",
                "year": 2024,
                "period": "2024-06",
                "subject": "项目 12 新疆大学",
                "rule": "execution.lag",
                "value": Decimal("40.0000"),
                "threshold": Decimal("50.0000"),
                "severity": severity,
                "message": "资金执行率 40% 低于序时进度 50% 减容差",
                "dedup_key": key,
                "first_run_id": run_id,
                "last_seen_run_id": run_id,
                **values,
            }
            conn.execute(insert(Alert).values(**row))


def settings_for(tmp_path: Path, notify_url: str = "", retry_seconds: int = 0) -> Settings:
    return Settings(
        workdir=tmp_path / "work", notify_url=notify_url, notify_retry_seconds=retry_seconds
    )


# ---------------------------------------------------------------- delivery
def test_a_webhook_receives_a_new_alert_once_and_not_again_when_it_is_unchanged(
    tmp_path: Path, warehouse: Engine, http_receiver: HttpReceiver
) -> None:
    settings = settings_for(tmp_path, f"{http_receiver.url}/hooks/guidefund")
    first = nightly_run(warehouse)
    raise_alert(warehouse, "execution.lag|650000|2024|12|2024-06", first)

    sent = deliver_alerts(settings, alert_rows(warehouse, run_id=first))

    second = nightly_run(warehouse)
    raise_alert(warehouse, "execution.lag|650000|2024|12|2024-06", second)
    again = deliver_alerts(settings, alert_rows(warehouse, run_id=second))

    assert (sent.channel, sent.sent, sent.skipped) == ("webhook", 1, 0)
    assert (again.sent, again.skipped) == (0, 1)
    assert len(http_receiver.posts) == 1
    post = http_receiver.posts[0]
    assert post["path"] == "/hooks/guidefund"
    assert post["json"]["title"] == "guidefund：1 条新预警（650000 2024）"
    assert post["json"]["kind"] == "alerts"
    alert = post["json"]["alerts"][0]
    assert (alert["dedup_key"], alert["value"], alert["threshold"], alert["period"]) == (
        "execution.lag|650000|2024|12|2024-06",
        "40",
        "50",
        "2024-06",
    )
    assert post["json"]["text"] == (
        "[warning] 项目 12 新疆大学 execution.lag：资金执行率 40% 低于序时进度 50% 减容差"
        "（值 40，阈值 50，期间 2024-06）"
    )


def test_only_the_new_alert_of_a_later_run_is_sent_and_a_raised_severity_is_news(
    tmp_path: Path, warehouse: Engine, http_receiver: HttpReceiver
) -> None:
    settings = settings_for(tmp_path, http_receiver.url)
    first = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", first)
    raise_alert(warehouse, "lag|40", first, subject="项目 40")
    deliver_alerts(settings, alert_rows(warehouse, run_id=first))

    second = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", second)
    raise_alert(warehouse, "lag|40", second, severity="critical")
    raise_alert(warehouse, "missing|77", second, subject="项目 77", rule="submission.missing")
    delivery = deliver_alerts(settings, alert_rows(warehouse, run_id=second))

    assert (delivery.sent, delivery.skipped) == (2, 1)
    assert [sorted(a["dedup_key"] for a in p["json"]["alerts"]) for p in http_receiver.posts] == [
        ["lag|12", "lag|40"],
        ["lag|40", "missing|77"],
    ]


def test_a_failed_delivery_is_not_recorded_so_the_next_run_sends_it(
    tmp_path: Path, warehouse: Engine, http_receiver: HttpReceiver
) -> None:
    settings = settings_for(tmp_path, http_receiver.url)
    run = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", run)
    http_receiver.statuses = [503]

    with pytest.raises(NotDelivered) as held:
        deliver_alerts(settings, alert_rows(warehouse, run_id=run))
    assert str(held.value) == (
        f"预警 1 条未能发送（{http_receiver.url}："
        "对方服务返回错误 HTTP 503（Service Unavailable）），下次运行时重发"
    )
    retried = deliver_alerts(settings, alert_rows(warehouse, run_id=run))

    assert retried.sent == 1
    assert len(http_receiver.posts) == 2
    ledger = (settings.workdir / LEDGER_NAME).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["dedup_key"] for line in ledger] == ["lag|12"]


def test_a_failing_webhook_is_tried_again_within_the_run_budget(
    tmp_path: Path, warehouse: Engine, http_receiver: HttpReceiver, caplog
) -> None:
    settings = settings_for(tmp_path, http_receiver.url, retry_seconds=30)
    run = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", run)
    http_receiver.statuses = [503, 502]

    with caplog.at_level("WARNING", logger="guidefund.faults"):
        done = deliver_alerts(settings, alert_rows(warehouse, run_id=run))

    assert done.sent == 1
    assert len(http_receiver.posts) == 3
    waits = [r.getMessage() for r in caplog.records]
    assert len(waits) == 2 and all(w.startswith("预警未能送达 ") for w in waits)


def test_email_over_smtp_reaches_the_local_mail_server_once(
    tmp_path: Path, warehouse: Engine, smtp_server: socketserver.ThreadingTCPServer
) -> None:
    port = smtp_server.server_address[1]
    url = f"smtp://127.0.0.1:{port}/?from=guidefund@kjt.example&to=ops@kjt.example,lead@kjt.example"
    settings = settings_for(tmp_path, url)
    run = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", run)

    first = deliver_alerts(settings, alert_rows(warehouse, run_id=run))
    second = deliver_alerts(settings, alert_rows(warehouse, run_id=run))

    assert (first.channel, first.target, first.sent, second.sent) == (
        "smtp",
        f"smtp://127.0.0.1:{port}/",
        1,
        0,
    )
    messages = smtp_server.messages  # type: ignore[attr-defined]
    assert len(messages) == 1
    assert messages[0]["from"] == "guidefund@kjt.example"
    assert messages[0]["to"] == ["ops@kjt.example", "lead@kjt.example"]
    message = messages[0]["message"]
    assert message["Subject"] == "guidefund：1 条新预警（650000 2024）"
    assert "资金执行率 40% 低于序时进度 50% 减容差" in message.get_content()


def test_an_apprise_url_is_delivered_through_apprise(
    tmp_path: Path, warehouse: Engine, http_receiver: HttpReceiver
) -> None:
    # Apprise's json:// service POSTs {title, message, ...}: the receiver stands in for any service.
    apprise_url = http_receiver.url.replace("http://", "json://") + "/apprise"
    settings = settings_for(tmp_path, apprise_url)
    run = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", run)

    delivery = deliver_alerts(settings, alert_rows(warehouse, run_id=run))
    deliver_alerts(settings, alert_rows(warehouse, run_id=run))

    assert delivery.channel == "apprise"
    assert len(http_receiver.posts) == 1
    body = http_receiver.posts[0]["json"]
    assert http_receiver.posts[0]["path"] == "/apprise"
    assert body["title"] == "guidefund：1 条新预警（650000 2024）"
    assert "项目 12 新疆大学 execution.lag" in body["message"]


def test_without_a_notifier_new_alerts_are_appended_to_the_local_log_once(
    tmp_path: Path, warehouse: Engine
) -> None:
    settings = settings_for(tmp_path)
    run = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", run)

    first = deliver_alerts(settings, alert_rows(warehouse, run_id=run))
    deliver_alerts(settings, alert_rows(warehouse, run_id=run))

    assert (first.channel, first.target) == ("file", str(settings.alerts_log))
    lines = settings.alerts_log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(" guidefund：1 条新预警（650000 2024）")
    assert lines[1].startswith("[warning] 项目 12 新疆大学 execution.lag：")


def test_a_notifier_url_nobody_understands_is_refused_in_plain_words(
    tmp_path: Path, warehouse: Engine
) -> None:
    settings = settings_for(tmp_path, "carrier-pigeon://loft/7")
    run = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", run)

    with pytest.raises(NotDelivered, match="^预警 1 条未能发送（.*GUIDEFUND_NOTIFY_URL 无法识别"):
        deliver_alerts(settings, alert_rows(warehouse, run_id=run))
    assert not (settings.workdir / LEDGER_NAME).exists()


# ---------------------------------------------------------------- the weekly digest
def test_the_digest_lists_the_alerts_the_latest_nightly_run_still_raises(
    tmp_path: Path, warehouse: Engine
) -> None:
    from guidefund.notify import digest_message as render
    from guidefund.warehouse.alerts import open_alerts

    old = nightly_run(warehouse, started=utcnow() - timedelta(days=30))
    raise_alert(warehouse, "lag|12", old)
    raise_alert(warehouse, "lag|40", old, subject="项目 40")
    latest = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", latest)
    raise_alert(warehouse, "missing|77", latest, subject="项目 77", severity="critical")

    alerts = open_alerts(warehouse, "650000", 2024)
    title, text, new = render(2024, alerts, utcnow() - timedelta(days=7), region="新疆 650000")

    assert sorted(a["dedup_key"] for a in alerts) == ["lag|12", "missing|77"]
    assert [a["dedup_key"] for a in new] == ["missing|77"]
    assert title == "guidefund 每周预警摘要（新疆 650000 2024）：未关闭 2 条，本周新增 1 条"
    assert text.splitlines()[0] == "按级别：critical 1 条，warning 1 条"
    assert "（新）[critical] 项目 77" in text


def test_the_digest_also_keeps_what_the_latest_year_end_run_raised(
    tmp_path: Path, warehouse: Engine
) -> None:
    from guidefund.warehouse.alerts import open_alerts

    year_end = nightly_run(warehouse, flow="year-end-aggregation")
    raise_alert(warehouse, "year_end.execution|650000", year_end, subject="新疆维吾尔自治区")
    nightly = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", nightly)
    failed = start_run(
        warehouse, "nightly-consolidation", "650000", 2024
    )  # never finished: not a basis
    raise_alert(warehouse, "lag|99", failed, subject="项目 99")

    alerts = open_alerts(warehouse, "650000", 2024)

    assert sorted(a["dedup_key"] for a in alerts) == ["lag|12", "year_end.execution|650000"]


def test_a_regions_digest_never_shows_another_regions_alerts(
    tmp_path: Path, warehouse: Engine
) -> None:
    """Two regions share one warehouse; the other region (and another year) ran last: each
    digest reads its own region's latest runs and alerts only."""
    from guidefund.warehouse.alerts import open_alerts
    from guidefund.warehouse.models import PlanYear, Region

    amounts = {"annual_amount": 1, "central_amount": 1, "local_amount": 0, "fund_name": "引导资金"}
    with warehouse.begin() as conn:
        conn.execute(insert(Region).values(code="640000", name="宁夏回族自治区"))
        conn.execute(insert(PlanYear).values(region_code="640000", year=2024, **amounts))
        conn.execute(insert(PlanYear).values(region_code="650000", year=2025, **amounts))
    xinjiang = nightly_run(warehouse)
    raise_alert(warehouse, "lag|12", xinjiang)
    ningxia = nightly_run(warehouse, region="640000")
    raise_alert(warehouse, "lag|640000|3", ningxia, region_code="640000", subject="项目 3")
    later = nightly_run(warehouse, region="650000", year=2025)
    raise_alert(warehouse, "lag|2025|5", later, year=2025, subject="项目 5")

    assert [a["dedup_key"] for a in open_alerts(warehouse, "650000", 2024)] == ["lag|12"]
    assert [a["dedup_key"] for a in open_alerts(warehouse, "640000", 2024)] == ["lag|640000|3"]
    assert [a["dedup_key"] for a in open_alerts(warehouse, "650000", 2025)] == ["lag|2025|5"]
    assert open_alerts(warehouse, "640000", 2025) == []


def test_before_any_nightly_run_the_digest_says_there_is_nothing_to_report(
    tmp_path: Path,
) -> None:
    from guidefund.notify import digest_message as render
    from guidefund.warehouse.alerts import open_alerts

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")

    title, text, _ = render(
        2024, open_alerts(engine, "650000", 2024), datetime(2024, 1, 1), ran=False
    )

    assert title == "guidefund 每周预警摘要（2024）：未关闭 0 条，本周新增 0 条"
    assert text == "尚无成功的汇总运行，没有可报告的预警。"


@pytest.mark.prefect
def test_the_execution_alerts_flow_sends_the_digest_to_the_webhook(
    tmp_path: Path,
    ref: Reference,
    http_receiver: HttpReceiver,
    prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from guidefund.flows.digest import execution_alerts

    workdir = tmp_path / "work"
    engine = make_engine(f"sqlite:///{workdir / 'warehouse.sqlite'}")
    upgrade(engine)
    with engine.begin() as conn:
        load_reference_data(conn, ref)
    run = nightly_run(engine)
    raise_alert(engine, "lag|12", run)
    monkeypatch.setenv("GUIDEFUND_NOTIFY_URL", http_receiver.url)

    digest = execution_alerts(year=2024, workdir=str(workdir))

    assert (digest.channel, len(digest.open), len(digest.new)) == ("webhook", 1, 1)
    body = http_receiver.posts[0]["json"]
    assert (body["kind"], body["year"], body["open"], body["new"]) == ("digest", 2024, 1, 1)
    assert body["alerts"][0]["dedup_key"] == "lag|12"


@pytest.mark.prefect
def test_the_notify_alerts_task_sends_what_a_run_raised_only_once(
    tmp_path: Path, ref: Reference, http_receiver: HttpReceiver, prefect_harness: None
) -> None:
    from prefect import flow

    from guidefund.flows.tasks import notify_new_alerts

    settings = settings_for(tmp_path, http_receiver.url)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.begin() as conn:
        load_reference_data(conn, ref)
    run = nightly_run(engine)
    raise_alert(engine, "lag|12", run)

    @flow(name="notify-probe")
    def twice() -> list[int]:
        return [notify_new_alerts(settings, run).sent for _ in range(2)]

    assert twice() == [1, 0]
    assert [a["dedup_key"] for a in http_receiver.posts[0]["json"]["alerts"]] == ["lag|12"]
    assert len(http_receiver.posts) == 1
