"""Deliver alerts to people: a webhook, e-mail over SMTP, any Apprise URL, or a local file.

`Settings.notify_url` picks the channel by its scheme; empty means `Settings.alerts_log`.
An alert is delivered once: a ledger of the (dedup_key, severity) pairs already sent lives in
the working directory (<workdir>/alerts.notified.jsonl), so an unchanged alert raised again by a
later run is not sent again, while a raised severity is news and is. The ledger is written only after the
channel accepted the message, so a failed delivery is retried by the next run.
A delivery that fails on a transient error (refused, reset, timed out, a 5xx answer, an SMTP 4xx)
is tried again with backoff within GUIDEFUND_NOTIFY_RETRY_SECONDS; then `NotDelivered` says how
many alerts are held for the next run. A notifier that cannot be understood is ValueError.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from guidefund.faults import Fault, Stopped, explain, is_transient_io, retry
from guidefund.settings import Settings

TIMEOUT_SECONDS = 20  # a notifier that does not answer in this time is down, not slow
LEDGER_NAME = "alerts.notified.jsonl"


class NotDelivered(Fault):
    """The channel did not take the alerts within the retry budget; they go out next run."""


@dataclass(frozen=True)
class Delivery:
    """What one delivery did: the channel, where to (no password), sent and skipped alerts."""

    channel: str
    target: str
    sent: int
    skipped: int


def number(value: Any) -> str:
    """A Decimal as people write it (85.6700 → 85.67, 1E+1 → 10); anything else as str."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return "" if value is None else str(value)


def alert_line(alert: Mapping[str, Any]) -> str:
    """One alert on one line, e.g. `[warning] 项目 12 … execution.lag：… (值 40, 阈值 50, 期间 2024-06)`."""
    extra = [
        f"{label} {number(alert.get(key))}"
        for key, label in (
            ("value", "值"),
            ("threshold", "阈值"),
            ("period", "期间"),
            ("as_of", "截至"),
        )
        if alert.get(key) is not None
    ]
    tail = f"（{'，'.join(extra)}）" if extra else ""
    return f"[{alert.get('severity', '')}] {alert.get('subject', '')} {alert.get('rule', '')}：{alert.get('message', '')}{tail}"


def jsonable(alert: Mapping[str, Any]) -> dict[str, Any]:
    """An alert for a JSON payload: money and rates as exact strings, times as ISO 8601."""
    out: dict[str, Any] = {}
    for key, value in alert.items():
        if isinstance(value, Decimal):
            out[key] = number(value)
        elif isinstance(value, datetime | date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def describe(url: str, log: Path) -> tuple[str, str]:
    """(channel, target) for a notifier URL, with any password left out."""
    if not url:
        return "file", str(log)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    where = f"{scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"
    if scheme in ("http", "https"):
        return "webhook", where
    if scheme in ("smtp", "smtps"):
        return "smtp", where
    return "apprise", f"{scheme}://…"


def send_message(settings: Settings, title: str, text: str, payload: Mapping[str, Any]) -> str:
    """Send one message through the configured channel; return the channel's name."""
    url = settings.notify_url.strip()
    channel, _ = describe(url, settings.alerts_log)
    if channel == "file":
        _append_log(settings.alerts_log, title, text)
    elif channel == "webhook":
        _post_json(url, {"title": title, "text": text, **payload})
    elif channel == "smtp":
        _send_mail(url, title, text)
    else:
        _apprise(url, title, text)
    return channel


def deliver_alerts(settings: Settings, alerts: Sequence[Mapping[str, Any]]) -> Delivery:
    """Send the alerts not delivered before, in one message; record them as delivered."""
    ledger = settings.workdir / LEDGER_NAME
    done = _delivered(ledger)
    fresh = [a for a in alerts if _fingerprint(a) not in done]
    channel, target = describe(settings.notify_url.strip(), settings.alerts_log)
    if fresh:
        scopes = sorted(
            {f"{a.get('region_code') or ''} {a['year']}".strip() for a in fresh if a.get("year")}
        )
        title = f"guidefund：{len(fresh)} 条新预警（{'、'.join(scopes) or '—'}）"
        text = "\n".join(alert_line(a) for a in fresh)
        payload = {"kind": "alerts", "alerts": [jsonable(a) for a in fresh]}
        try:
            retry(
                lambda: send_message(settings, title, text, payload),
                transient=is_transient_io,
                budget_seconds=settings.notify_retry_seconds,
                what=f"预警未能送达 {target}",
            )
        except Stopped:
            raise
        except Exception as exc:
            reason = str(exc) if isinstance(exc, ValueError) else explain(exc)
            raise NotDelivered(
                f"预警 {len(fresh)} 条未能发送（{target}：{reason}），下次运行时重发"
            ) from exc
        _record(ledger, fresh, channel)
    return Delivery(channel, target, sent=len(fresh), skipped=len(alerts) - len(fresh))


def _fingerprint(alert: Mapping[str, Any]) -> tuple[str, str]:
    return str(alert["dedup_key"]), str(alert.get("severity", ""))


def _delivered(ledger: Path) -> set[tuple[str, str]]:
    if not ledger.exists():
        return set()
    seen = set()
    for line in ledger.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            seen.add((entry["dedup_key"], entry["severity"]))
    return seen


def _record(ledger: Path, alerts: Iterable[Mapping[str, Any]], channel: str) -> None:
    ledger.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with ledger.open("a", encoding="utf-8") as f:
        for a in alerts:
            key, severity = _fingerprint(a)
            entry = {"dedup_key": key, "severity": severity, "sent_at": now, "channel": channel}
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _append_log(log: Path, title: str, text: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with log.open("a", encoding="utf-8") as f:
        f.write(f"== {stamp} {title}\n{text}\n")


def _post_json(url: str, body: Mapping[str, Any]) -> None:
    data = json.dumps({"source": "guidefund", **body}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "guidefund"},
    )
    # urlopen raises HTTPError (an OSError) for any 4xx/5xx answer.
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read()


def _send_mail(url: str, title: str, text: str) -> None:
    """smtp://user:pass@host:port/?from=a@x&to=b@y,c@z[&starttls=1]; smtps:// for implicit TLS."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    sender, recipients = query.get("from", ""), [t for t in query.get("to", "").split(",") if t]
    if not sender or not recipients or not parts.hostname:
        raise ValueError(
            "GUIDEFUND_NOTIFY_URL 的邮件地址不完整：应为 smtp://用户:密码@主机:端口/?from=发件人&to=收件人1,收件人2"
        )
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = title, sender, ", ".join(recipients)
    message.set_content(text)
    smtp_class = smtplib.SMTP_SSL if parts.scheme.lower() == "smtps" else smtplib.SMTP
    port = parts.port or (465 if smtp_class is smtplib.SMTP_SSL else 25)
    with smtp_class(parts.hostname, port, timeout=TIMEOUT_SECONDS) as smtp:
        if query.get("starttls", "").lower() in ("1", "yes", "true"):
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def _apprise(url: str, title: str, text: str) -> None:
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError(
            "GUIDEFUND_NOTIFY_URL 无法识别：请填写 http(s):// 网址、smtp:// 邮件地址或 Apprise 支持的地址"
        )
    if not notifier.notify(body=text, title=title):
        raise OSError(f"通知未送达：{describe(url, Path())[1]} 没有接受消息")


def digest_message(
    year: int,
    alerts: Sequence[Mapping[str, Any]],
    since: datetime,
    ran: bool = True,
    region: str = "",
    as_of: date | None = None,
) -> tuple[str, str, list[dict[str, Any]]]:
    """(title, text, new alerts) of one region's weekly digest of open alerts (`region` names
    it in the title, e.g. '新疆维吾尔自治区 650000'), dated `as_of` when given; `since` is naive UTC
    like the warehouse's times."""
    new = [dict(a) for a in alerts if a.get("first_seen") and a["first_seen"] >= since]
    scope = f"{region} {year}" if region else f"{year}"
    dated = f"，截至 {as_of.isoformat()}" if as_of else ""
    title = (
        f"guidefund 每周预警摘要（{scope}{dated}）：未关闭 {len(alerts)} 条，本周新增 {len(new)} 条"
    )
    if not ran:
        return title, "尚无成功的汇总运行，没有可报告的预警。", new
    if not alerts:
        return title, "没有未关闭的预警。", new
    counts = Counter(str(a.get("severity", "")) for a in alerts)
    lines = ["按级别：" + "，".join(f"{k} {v} 条" for k, v in sorted(counts.items()))]
    new_ids = {a.get("id") for a in new}
    lines += [("（新）" if a.get("id") in new_ids else "") + alert_line(a) for a in alerts]
    return title, "\n".join(lines), new
