"""The units' web page through its HTTP API (issue 15): links, the unit's page, uploads checked
by the nightly's own reader and rules, custody, limits, and what nobody else may see."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from tests.hostile import bomb, edit_sheet, far
from tests.quirks import submission_file

from .conftest import BASE, Site, make_site, read_links_csv, run_links, served

JSON = {"accept": "application/json"}


def post(site: Site, unit: str, *files: tuple[str, bytes], json: bool = True):
    return site.client.post(
        f"/u/{site.token(unit)}",
        files=[("files", (name, data)) for name, data in files],
        headers=JSON if json else {},
    )


def uploads(site: Site) -> list[dict]:
    with site.engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(select(m.PortalUpload).order_by(m.PortalUpload.id))
        ]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


# ------------------------------------------------------------------------------ links


def test_links_give_one_secret_url_per_plan_unit_and_store_only_hashes(
    tmp_path: Path, ref: Reference
) -> None:
    for _ in make_site(tmp_path / "work", ref):
        rows = read_links_csv(tmp_path / "work" / "links.csv")
        assert sorted(rows) == sorted({p.unit for p in ref.plan})
        tokens = []
        for url in rows.values():
            match = re.fullmatch(re.escape(BASE) + r"/u/([A-Za-z0-9_-]+)", url)
            assert match, url
            tokens.append(match.group(1))
        # token_urlsafe(32): 43 characters of 6 bits = 256 random bits
        assert {len(t) for t in tokens} == {43} and len(set(tokens)) == len(tokens)
        import sqlite3

        with sqlite3.connect(tmp_path / "work" / "warehouse.sqlite") as conn:
            dump = "\n".join(conn.iterdump())
            stored = {
                h for (h,) in conn.execute("SELECT token_hash FROM portal_link WHERE kind = 'unit'")
            }
        assert not any(t in dump for t in tokens)
        assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
        assert (tmp_path / "work" / "links.csv").stat().st_mode & 0o077 == 0


def test_links_again_keep_the_active_ones_rotate_replaces_them_and_xlsx_opens(
    tmp_path: Path, ref: Reference
) -> None:
    for site in make_site(tmp_path / "work", ref):
        old = site.token(site.unit_a)
        assert (
            run_links(site.workdir, "--base-url", BASE, "--out", str(tmp_path / "again.csv")) == 1
        )
        assert read_links_csv(tmp_path / "again.csv") == {}
        assert site.client.get(f"/u/{old}").status_code == 200
        out = tmp_path / "rotated.xlsx"
        assert run_links(site.workdir, "--base-url", BASE, "--out", str(out), "--rotate") == 0
        ws = load_workbook(out).active
        rows = {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
        assert [c.value for c in ws[1]] == ["申报单位", "链接"]
        assert sorted(rows) == sorted({p.unit for p in ref.plan})
        new = rows[site.unit_a].rsplit("/", 1)[1]
        assert new != old
        assert site.client.get(f"/u/{old}").status_code == 404
        assert site.client.get(f"/u/{new}").status_code == 200


def test_revoke_ends_a_units_link_at_once_in_the_running_server(
    tmp_path: Path, ref: Reference
) -> None:
    for site in make_site(tmp_path / "work", ref):
        a, b = site.token(site.unit_a), site.token(site.unit_b)
        assert site.client.get(f"/u/{a}").status_code == 200
        assert run_links(site.workdir, "--revoke", site.unit_a) == 0
        gone = site.client.get(f"/u/{a}")
        wrong = site.client.get("/u/" + "x" * 43)
        nowhere = site.client.get("/no/such/page")
        assert gone.status_code == wrong.status_code == nowhere.status_code == 404
        assert gone.text == wrong.text == nowhere.text
        assert site.client.get(f"/u/{b}").status_code == 200
        assert run_links(site.workdir, "--revoke", "不在计划中的单位") == 2


def test_the_office_link_opens_the_overview_and_not_a_unit_page(site: Site) -> None:
    assert site.client.get(f"/o/{site.office}").status_code == 200
    assert site.client.get(f"/u/{site.office}").status_code == 404
    assert site.client.get(f"/o/{site.token(site.unit_a)}").status_code == 404


# ------------------------------------------------------------------------------ the unit's page


def test_the_unit_page_shows_its_own_projects_and_nothing_of_another_unit(
    site: Site, ref: Reference
) -> None:
    page = site.client.get(f"/u/{site.token(site.unit_a)}").text
    mine, theirs = ref.project(site.project_a), ref.project(site.project_b)
    assert mine.name in page and "未提交" in page
    assert f"/template/{site.project_a}" in page
    assert theirs.name not in page and site.unit_b not in page


def test_the_template_download_is_the_units_prefilled_workbook_only(
    site: Site, ref: Reference
) -> None:
    token = site.token(site.unit_a)
    r = site.client.get(f"/u/{token}/template/{site.project_a}")
    assert r.status_code == 200
    path = site.workdir / "downloaded.xlsx"
    path.write_bytes(r.content)
    wb = load_workbook(path)
    assert wb["基本信息"]["C5"].value == site.project_a
    assert wb["基本信息"]["C7"].value == site.unit_a
    assert site.client.get(f"/u/{token}/template/{site.project_b}").status_code == 404


def test_every_answer_has_a_csp_without_inline_scripts_and_loads_nothing_from_elsewhere(
    site: Site,
) -> None:
    for path in (f"/u/{site.token(site.unit_a)}", f"/o/{site.office}", "/nothing"):
        r = site.client.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert "<script" not in r.text and " style=" not in r.text
        assert not re.search(r"(src|href)=\"(https?:)?//", r.text)
        assert r.headers["referrer-policy"] == "no-referrer"
    css = site.client.get("/static/portal.css")
    assert css.status_code == 200 and "@media (max-width" in css.text and "@media print" in css.text


# ------------------------------------------------------------------------------ uploads


def test_a_good_file_goes_into_the_inbox_whole_with_its_custody_record(
    site: Site, good_files: dict[int, bytes]
) -> None:
    data = good_files[site.project_a]
    r = post(site, site.unit_a, ("年报.xlsx", data))
    assert r.status_code == 200
    assert r.json() == [
        {"file": "年报.xlsx", "accepted": True, "verdict": "accepted", "project_no": site.project_a,
         "duplicate": False, "findings": []}
    ]  # fmt: skip
    [kept] = [
        p
        for p in files_under(site.workdir / "inbox")
        if hashlib.sha256(p.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    ]
    assert kept.parent.name == site.unit_a and not kept.name.startswith(".")
    assert not [p for p in files_under(site.workdir / "inbox") if p.suffix == ".part"]
    row = next(u for u in uploads(site) if u["sha256"] == hashlib.sha256(data).hexdigest())
    assert (row["unit"], row["file_name"], row["verdict"], row["size"]) == (
        site.unit_a,
        "年报.xlsx",
        "accepted",
        len(data),
    )
    assert row["stored_at"] == kept.relative_to(site.workdir).as_posix()
    with site.engine.connect() as conn:
        link = conn.execute(select(m.PortalLink).where(m.PortalLink.id == row["link_id"])).one()
    assert (
        link.unit == site.unit_a
        and link.token_hash == hashlib.sha256(site.token(site.unit_a).encode()).hexdigest()
    )


def test_the_same_bytes_sent_twice_are_kept_once(site: Site, good_files: dict[int, bytes]) -> None:
    data = good_files[site.project_a]
    post(site, site.unit_a, ("a.xlsx", data))
    r = post(site, site.unit_a, ("b.xlsx", data))
    assert r.json()[0]["accepted"] is True and r.json()[0]["duplicate"] is True
    sha = hashlib.sha256(data).hexdigest()
    same = [
        p for p in files_under(site.workdir) if hashlib.sha256(p.read_bytes()).hexdigest() == sha
    ]
    assert len(same) == 1
    assert [u["verdict"] for u in uploads(site) if u["sha256"] == sha][-1] == "duplicate"


def check_lines(path: Path) -> list[str]:
    """What `guidefund check FILE` prints for each finding (a separate process, as a unit runs it)."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "guidefund"), "check", str(path)],
        capture_output=True, text=True, env={"GUIDEFUND_WORKDIR": str(path.parent / "nowhere"), "PATH": ""},
    )  # fmt: skip
    return [ln for ln in done.stdout.splitlines() if "（退回）" in ln or "（提醒）" in ln]


def test_a_refused_file_gets_the_same_findings_as_guidefund_check_and_is_kept_for_the_office(
    site: Site, ref: Reference, tmp_path: Path
) -> None:
    path = submission_file(
        ref, site.project_a, tmp_path / "bad.xlsx", funds_spent=-5, satisfaction_pct=300
    )
    r = post(site, site.unit_a, ("bad.xlsx", path.read_bytes()))
    [answer] = r.json()
    assert answer["accepted"] is False and answer["verdict"] == "rejected"
    shown = [
        f"bad.xlsx {f['sheet']}!{f['cell']} [{f['check']}] {f['label']}：{f['message']}（{f['level']}）"
        for f in answer["findings"]
    ]
    expected = check_lines(path)
    assert expected and shown == expected
    spent = next(f for f in answer["findings"] if f["cell"] == "C5" and f["sheet"] == "资金情况")
    assert spent["value"] == "-5"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert not [p for p in files_under(site.workdir / "inbox") if sha[:12] in p.name]
    [kept] = [
        p
        for p in files_under(site.workdir / "portal" / "refused")
        if sha[:12] in p.name and p.name.endswith(".xlsx") and not p.name.endswith(".errors.xlsx")
    ]
    assert kept.read_bytes() == path.read_bytes()
    row = next(u for u in uploads(site) if u["sha256"] == sha)
    fb = site.client.get(f"/u/{site.token(site.unit_a)}/feedback/{row['id']}")
    assert fb.status_code == 200
    (tmp_path / "fb.xlsx").write_bytes(fb.content)
    text = " ".join(
        str(c)
        for r_ in load_workbook(tmp_path / "fb.xlsx").active.iter_rows(values_only=True)
        for c in r_
        if c
    )
    assert spent["message"] in text
    # another unit cannot fetch it with its own link
    assert site.client.get(f"/u/{site.token(site.unit_b)}/feedback/{row['id']}").status_code == 404


def test_the_html_answer_shows_every_finding_with_sheet_cell_and_fix(
    site: Site, ref: Reference, tmp_path: Path
) -> None:
    path = submission_file(ref, site.project_a, tmp_path / "bad2.xlsx", funds_spent=-7)
    r = post(site, site.unit_a, ("bad2.xlsx", path.read_bytes()), json=False)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "未接收" in r.text and "资金情况" in r.text and ">C5<" in r.text and ">-7<" in r.text
    assert "下载问题清单" in r.text


def test_a_project_of_another_unit_is_refused_recorded_and_never_reaches_the_inbox(
    site: Site, good_files: dict[int, bytes], ref: Reference
) -> None:
    data = good_files[site.project_b]
    r = post(site, site.unit_a, ("theirs.xlsx", data))
    [answer] = r.json()
    assert answer["accepted"] is False and answer["verdict"] == "other_unit"
    [f] = [f for f in answer["findings"] if f["check"] == "项目不属于本单位"]
    assert f"序号 {site.project_b} 的项目不是本单位" in f["message"]
    assert site.unit_b not in r.text and ref.project(site.project_b).name not in r.text
    sha = hashlib.sha256(data).hexdigest()
    assert not [
        p
        for p in files_under(site.workdir / "inbox")
        if hashlib.sha256(p.read_bytes()).hexdigest() == sha
    ]
    row = next(u for u in uploads(site) if u["sha256"] == sha)
    assert (row["unit"], row["verdict"], row["project_no"]) == (
        site.unit_a,
        "other_unit",
        site.project_b,
    )


@pytest.mark.parametrize(
    "name", ["../../../evil.xlsx", "..\\..\\evil.xlsx", "/etc/evil.xlsx", "C:\\tmp\\evil.xlsx"]
)
def test_a_path_like_name_is_shown_but_never_used_as_a_path(
    site: Site, ref: Reference, tmp_path: Path, name: str
) -> None:
    # each case a different file, so none is a duplicate of another
    path = submission_file(ref, site.project_a, tmp_path / "x.xlsx", funds_spent=-len(name))
    before = set(files_under(site.workdir.parent))
    r = post(site, site.unit_a, (name, path.read_bytes()))
    assert r.json()[0]["file"] == "evil.xlsx"
    new = set(files_under(site.workdir.parent)) - before
    assert new and all(site.workdir / "portal" / "refused" / site.unit_a in p.parents for p in new)
    assert not any("evil" in p.name for p in new)
    assert not (site.workdir.parent / "evil.xlsx").exists()


def test_an_oversized_file_is_refused_with_413_before_the_body_is_read(
    tmp_path: Path, ref: Reference
) -> None:
    """Over a real socket: the request declares 4 MB for a 1 MB limit and sends 2 MB; the 413
    arrives while the rest has not been sent."""
    import socket

    for site in make_site(tmp_path / "work", ref, portal_max_file_mb=1):
        with served(site.client.app) as url:
            host, port = url.removeprefix("http://").split(":")
            boundary = "b0undary"
            head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
                    f"filename=\"big.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()  # fmt: skip
            total = len(head) + (4 << 20)
            request = (
                f"POST /u/{site.token(site.unit_a)} HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Accept: application/json\r\nContent-Length: {total}\r\n\r\n"
            ).encode() + head
            with socket.create_connection((host, int(port)), timeout=20) as sock:
                sock.sendall(request)
                try:
                    for _ in range(32):  # 2 MB of the declared 4 MB
                        sock.sendall(b"\0" * 65536)
                except (ConnectionResetError, BrokenPipeError):
                    pass  # it answered and closed before we were done sending: as it should
                received = b""
                try:
                    while chunk := sock.recv(65536):  # the server closes after its answer
                        received += chunk
                except ConnectionResetError:  # it closed with our unread bytes pending
                    pass
            assert received.startswith(b"HTTP/1.1 413"), received[:200]
            assert uploads(site) == [] and files_under(site.workdir / "inbox") == []
            declared = site.client.post(
                f"/u/{site.token(site.unit_a)}", content=b"x" * (25 << 20),
                headers={"content-type": f"multipart/form-data; boundary={boundary}"},
            )  # fmt: skip
            assert declared.status_code == 413
            assert "上传内容超过上限（每个文件 1 MB" in declared.text
            assert site.client.get(f"/u/{site.token(site.unit_a)}").status_code == 200


def test_a_request_without_files_is_a_clear_400(site: Site) -> None:
    url = f"/u/{site.token(site.unit_a)}"
    r = site.client.post(url, files=[("other", ("a.xlsx", b"x"))], headers=JSON)
    assert r.status_code == 400 and "没有收到文件" in r.json()["detail"]
    r = site.client.post(url, data={"files": "1"}, headers=JSON)
    assert r.status_code == 400 and "multipart/form-data" in r.json()["detail"]


def test_hostile_workbooks_are_refused_and_the_server_keeps_serving(
    site: Site, good_files: dict[int, bytes], ref: Reference
) -> None:
    base = good_files[site.project_a]
    far_cell = edit_sheet(base, "基本信息", far("XFD1048576"))
    zip_bomb = bomb(base)
    r = post(site, site.unit_a, ("far.xlsx", far_cell), ("bomb.xlsx", zip_bomb))
    answers = r.json()
    assert [a["accepted"] for a in answers] == [False, False]
    far_says, bomb_says = (a["findings"][0]["message"] for a in answers)
    assert "XFD1048576" in far_says and "超出模板范围" in far_says
    assert "压缩炸弹" in bomb_says
    # the server answers, and the next good file is accepted
    assert site.client.get(f"/u/{site.token(site.unit_a)}").status_code == 200
    other = submission_file(ref, site.project_a, site.workdir.parent / "after.xlsx", funds_spent=1)
    assert post(site, site.unit_a, ("after.xlsx", other.read_bytes())).json()[0]["accepted"] is True


def test_tokens_are_compared_in_constant_time(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    seen = []
    real = hmac.compare_digest

    def spy(a, b):  # type: ignore[no-untyped-def]
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    token = site.token(site.unit_a)
    assert site.client.get(f"/u/{token}").status_code == 200
    wanted = hashlib.sha256(token.encode()).hexdigest().encode()
    assert (wanted, wanted) in seen


def test_repeated_wrong_tokens_from_one_client_are_throttled(
    tmp_path: Path, ref: Reference
) -> None:
    for site in make_site(tmp_path / "work", ref, portal_throttle_failures=3):
        good = site.token(site.unit_a)
        assert [site.client.get(f"/u/wrong{i}").status_code for i in range(3)] == [404] * 3
        r = site.client.get("/u/wrong-again")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert site.client.get(f"/u/{good}").status_code == 429
        # another client is not affected
        from fastapi.testclient import TestClient

        with TestClient(site.client.app, client=("10.0.0.9", 5000)) as other:
            assert other.get(f"/u/{good}").status_code == 200


# ------------------------------------------------------------------------------ the office


def test_the_overview_has_the_status_figures_missing_units_contacts_and_downloads(
    site: Site, ref: Reference
) -> None:
    (site.workdir / "contacts.csv").write_text(
        f"申报单位,联系人,邮箱\n{site.unit_b},王老师,wang@example.org\n", encoding="utf-8-sig"
    )
    reports = site.workdir / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "汇总表_2024.xlsx").write_bytes(b"table")
    page = site.client.get(f"/o/{site.office}").text
    # nothing was consolidated: every plan project is missing, as `guidefund status` says
    n = len(ref.plan)
    assert f'id="projects-total">{n}<' in page
    assert 'id="state-submitted">0<' in page and f'id="state-missing">{n}<' in page
    for d in {p.category for p in ref.plan}:
        assert d in page
    assert site.unit_b in page and "王老师" in page and "wang@example.org" in page
    assert "汇总表_2024.xlsx" in page
    got = site.client.get(f"/o/{site.office}/files/汇总表_2024.xlsx")
    assert got.status_code == 200 and got.content == b"table"
    assert site.client.get(f"/o/{site.office}/files/..%2Fwarehouse.sqlite").status_code == 404
    assert site.client.get(f"/o/{site.office}/files/../warehouse.sqlite").status_code == 404


def load_files(site: Site, ref: Reference, paths: list[Path]) -> int:
    """Load files into the warehouse as a nightly run's load step does; the run's id."""
    from guidefund.intake.batch import read_batch
    from guidefund.warehouse.load import finish_run, load_batch, start_run

    subs = read_batch(paths, ref)
    run_id = start_run(site.engine, "nightly-consolidation")
    load_batch(site.engine, ref, run_id, subs, [])
    finish_run(site.engine, run_id, "succeeded")
    return run_id


def test_pages_follow_the_warehouse_with_the_figures_of_guidefund_status(
    tmp_path: Path, ref: Reference, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from guidefund.cli import main

    for site in make_site(tmp_path / "work", ref):
        path = submission_file(ref, site.project_a, tmp_path / f"{site.project_a}.xlsx")
        load_files(site, ref, [path])
        capsys.readouterr()
        assert main(["status", "--workdir", str(site.workdir), "--year", "2024", "--json"]) == 1
        status = json.loads(capsys.readouterr().out)
        assert status["states"] == {"submitted": 1, "rejected": 0, "missing": len(ref.plan) - 1}
        page = site.client.get(f"/o/{site.office}").text
        for key, n in status["states"].items():
            assert f'id="state-{key}">{n}<' in page
        for d in status["directions"]:
            row = re.search(
                rf"<tr><td[^>]*>{re.escape(d['direction'])}</td>(.*?)</tr>", page
            ).group(1)
            cells = re.findall(r">([^<]*)</td>", row)
            money = lambda v: f"{float(v):,.2f}"  # noqa: E731 - as status prints them
            assert cells == [
                str(d["plan_projects"]), money(d["plan_allocation"]), str(d["submitted"]),
                money(d["submitted_allocation"]), money(d["funds_received"]), money(d["funds_spent"]),
            ]  # fmt: skip
        assert site.unit_a not in page.split('id="missing"')[1].split('id="units"')[0]
        unit_page = site.client.get(f"/u/{site.token(site.unit_a)}").text
        assert (
            "已提交" in unit_page
            and "当前版本" in unit_page
            and f"{site.project_a}.xlsx" in unit_page
        )


def test_the_outlier_reminder_compares_with_what_the_nightly_stored_since_the_server_started(
    tmp_path: Path, ref: Reference
) -> None:
    """The current figures are read again once a run stores a new submission: the same
    reminder as `guidefund check` gives against the warehouse."""
    for site in make_site(tmp_path / "work", ref):
        typed_in_yuan = submission_file(
            ref, site.project_a, tmp_path / "yuan1.xlsx", contract_value=125000
        )
        first = post(site, site.unit_a, ("yuan1.xlsx", typed_in_yuan.read_bytes())).json()[0]
        assert [f for f in first["findings"] if f["check"] == "数值异常"] == []
        load_files(site, ref, [submission_file(ref, site.project_a, tmp_path / "v1.xlsx")])
        again = submission_file(ref, site.project_a, tmp_path / "yuan2.xlsx", contract_value=125001)
        second = post(site, site.unit_a, ("yuan2.xlsx", again.read_bytes())).json()[0]
        [outlier] = [f for f in second["findings"] if f["check"] == "数值异常"]
        assert outlier["level"] == "提醒" and outlier["value"] == "125001"
        assert second["accepted"] is True


@pytest.mark.postgres
def test_on_postgresql_links_uploads_custody_and_revocation_hold_the_same(
    tmp_path: Path, ref: Reference, good_files: dict[int, bytes]
) -> None:
    from tests.pg import warehouse_url

    with warehouse_url("postgres", tmp_path) as url:
        for site in make_site(tmp_path / "work", ref, warehouse_url=url):
            data = good_files[site.project_a]
            assert post(site, site.unit_a, ("a.xlsx", data)).json()[0]["verdict"] == "accepted"
            assert post(site, site.unit_a, ("b.xlsx", data)).json()[0]["verdict"] == "duplicate"
            theirs = post(site, site.unit_a, ("c.xlsx", good_files[site.project_b])).json()[0]
            assert theirs["verdict"] == "other_unit"
            assert [u["verdict"] for u in uploads(site)] == ["accepted", "duplicate", "other_unit"]
            assert len(files_under(site.workdir / "inbox")) == 1
            assert run_links(site.workdir, "--revoke", site.unit_a) == 0
            assert site.client.get(f"/u/{site.token(site.unit_a)}").status_code == 404


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice writes the .xls")
def test_a_workbook_that_kills_its_reader_costs_that_file_and_the_server_keeps_serving(
    site: Site, ref: Reference, tmp_path: Path, good_files: dict[int, bytes]
) -> None:
    """An .xls with a value in IV65536 makes the reader abort in its worker (tests/hostile.py):
    the upload answers read.crashed, the pool replaces the worker, the next file is read."""
    from tests.hostile import Corpus, convert_to_xls

    corpus = Corpus(ref, tmp_path / "scratch", tmp_path / "outside")
    convert_to_xls(corpus.xls_sources(), tmp_path / "xls")
    far = (tmp_path / "xls" / "far-102.xls").read_bytes()
    [answer] = post(site, site.unit_a, ("far.xls", far)).json()
    assert answer["accepted"] is False
    assert "读取程序异常终止" in answer["findings"][0]["message"]
    assert site.client.get(f"/u/{site.token(site.unit_a)}").status_code == 200
    other = submission_file(ref, site.project_a, tmp_path / "after.xlsx", funds_spent=2)
    assert post(site, site.unit_a, ("after.xlsx", other.read_bytes())).json()[0]["accepted"]
